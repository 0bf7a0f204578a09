package dev.vmrunner.supervisor;

import dev.vmrunner.status.ExitCode;
import java.util.OptionalInt;

/**
 * What happened to a run, as far as its exit code depends on it: facts the loop sets as they
 * happen, turned into the exit code once, by {@link #exitCode()}, when everything has stopped.
 * Owned by the loop thread.
 */
final class Ending {

    /** A start step failed (a helper, QEMU before its vCPUs ran, QMP). */
    boolean startFailed;

    /** A stop was asked for before the guest ran: no guest data at stake. */
    boolean stoppedBeforeRun;

    /** QEMU was started (or found running). */
    boolean qemuStarted;

    /** The guest did not power off within powerdownTimeout; QEMU was terminated. */
    boolean escalated;

    /** QEMU reported the guest's own power-off (SHUTDOWN, guest-shutdown). */
    boolean guestPoweredOff;

    /**
     * QEMU's exit status; empty when it never ran or when it is unknown (a QEMU that is not the
     * runner's child: its status goes to its parent).
     */
    OptionalInt qemuExit = OptionalInt.empty();

    /** A process the VM needs (swtpm) ended while the VM ran. */
    boolean helperFailed;

    /** A QEMU left running by an earlier runner could not be adopted; it was left alone. */
    boolean refused;

    /** The guest was migrated to a target runner, which runs it now; QEMU here was ended. */
    boolean migrated;

    /** A target runner ({@code --incoming}) failed before the guest arrived and ran here. */
    boolean incomingFailed;

    /**
     * The one decision of how the run ended, pure. The order matters: a terminated QEMU is a
     * timeout whatever it said before; a failed start is a start failure even if a signal came too;
     * a clean power-off needs both the guest's word and a QEMU that did not fail after it.
     */
    ExitCode exitCode() {
        if (refused) {
            return ExitCode.ALREADY_RUNNING;
        }
        if (migrated) {
            return ExitCode.MIGRATED;
        }
        if (incomingFailed) {
            return ExitCode.INCOMING_FAILED;
        }
        if (escalated) {
            return ExitCode.POWERDOWN_TIMEOUT;
        }
        if (startFailed) {
            return ExitCode.START_FAILURE;
        }
        if (stoppedBeforeRun) {
            return ExitCode.CLEAN;
        }
        if (!qemuStarted) {
            return ExitCode.INTERNAL;
        }
        if (helperFailed) {
            return ExitCode.QEMU_FAILED;
        }
        boolean exitedWell = qemuExit.isEmpty() || qemuExit.getAsInt() == 0;
        return guestPoweredOff && exitedWell ? ExitCode.CLEAN : ExitCode.QEMU_FAILED;
    }
}
