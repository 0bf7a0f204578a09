/**
 * Live migration between two runners of one VM (docs/migration.md): the source's side ({@link
 * dev.vmrunner.supervisor.migrate.Outgoing}, asked through the status socket by {@link
 * dev.vmrunner.supervisor.migrate.Requests}) and the target's ({@link
 * dev.vmrunner.supervisor.migrate.Incoming}, started with {@link
 * dev.vmrunner.supervisor.migrate.IncomingCommands}); what the two tell each other through the
 * shared data directory ({@link dev.vmrunner.supervisor.migrate.TargetFacts}, {@link
 * dev.vmrunner.supervisor.migrate.Shape}) and the target's TPM state ({@link
 * dev.vmrunner.supervisor.migrate.TpmHandover}).
 *
 * <p>Dependency rule: uses {@code config}, {@code launch}'s records, {@code qmp}, {@code status},
 * {@code files}, {@code supervisor.claim} and the loop as {@code supervisor.live.LiveLoop}; never
 * the supervisor's classes. The supervisor lends it what it needs through {@code Host} interfaces
 * ({@code supervisor.Migrations}).
 */
package dev.vmrunner.supervisor.migrate;
