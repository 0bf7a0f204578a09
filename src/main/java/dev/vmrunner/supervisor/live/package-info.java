/**
 * Live changes: a changed configuration file applied to the running VM. {@link
 * dev.vmrunner.supervisor.live.LiveConfig} validates the file, reports per key and drives the
 * rounds of observe → diff → act; {@link dev.vmrunner.supervisor.live.Balloon}, {@link
 * dev.vmrunner.supervisor.live.CpuPlugging} and {@link dev.vmrunner.supervisor.live.CdMedia} act;
 * {@link dev.vmrunner.supervisor.live.Observing} asks QEMU what it has; each change ends in an
 * {@link dev.vmrunner.supervisor.live.Outcome}, logged, kept and counted by {@link
 * dev.vmrunner.supervisor.live.ChangeLedger}.
 *
 * <p>Dependency rule: runs on the supervisor's loop thread, through {@link
 * dev.vmrunner.supervisor.live.LiveLoop} (completions, timers, the clock), which the supervisor's
 * {@code Loop} implements; never names the {@code supervisor} package ({@code Supervisor}, {@code
 * Teardown}, {@code Boot}, {@code Event} …). Uses {@code config}, {@code qmp}, {@code reconcile},
 * {@code status}'s records and {@code kube}'s {@code VmFacts} (outcomes told to the cluster).
 */
package dev.vmrunner.supervisor.live;
