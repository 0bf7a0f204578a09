/**
 * The runner's claim on its VM and what it needs to take over a QEMU an earlier runner left: the
 * lock file ({@link dev.vmrunner.supervisor.claim.VmClaim}, {@link
 * dev.vmrunner.supervisor.claim.RunnerLock}), {@code /proc} checks ({@link
 * dev.vmrunner.supervisor.claim.Processes}, {@link dev.vmrunner.supervisor.claim.LiveQemu}), the
 * state kept for a later runner ({@link dev.vmrunner.supervisor.claim.RunnerState}) and the
 * adoption's facts ({@link dev.vmrunner.supervisor.claim.Adoption}).
 *
 * <p>Dependency rule: uses {@code config}, {@code files}, {@code qmp} and {@code launch}'s {@code
 * ChildProcess} only; never the supervisor's loop ({@code Loop}, {@code Event}) nor {@code
 * Supervisor}. Nothing here runs on the loop thread by itself: the supervisor calls in.
 */
package dev.vmrunner.supervisor.claim;
