package dev.vmrunner.supervisor;

import dev.vmrunner.status.ExitCode;
import java.util.OptionalInt;

/**
 * What happened to a run, as far as its exit code depends on it; collected while the VM runs and
 * turned into the exit code once, by {@link #exitCode()}, when everything has stopped.
 *
 * @param startFailed a start step failed (a helper, QEMU before its vCPUs ran, QMP)
 * @param stoppedBeforeRun a stop was asked for before the guest ran: no guest data at stake
 * @param qemuStarted QEMU was started (or found running)
 * @param escalated the guest did not power off within powerdownTimeout; QEMU was terminated
 * @param guestPoweredOff QEMU reported the guest's own power-off (SHUTDOWN, guest-shutdown)
 * @param qemuExit QEMU's exit status; empty when it never ran or when it is unknown (a QEMU that is
 *     not the runner's child: its status goes to its parent)
 * @param helperFailed a process the VM needs (swtpm) ended while the VM ran
 * @param refused a QEMU left running by an earlier runner could not be adopted; it was left alone
 */
record Ending(
        boolean startFailed,
        boolean stoppedBeforeRun,
        boolean qemuStarted,
        boolean escalated,
        boolean guestPoweredOff,
        OptionalInt qemuExit,
        boolean helperFailed,
        boolean refused) {

    static final Ending NOTHING =
            new Ending(false, false, false, false, false, OptionalInt.empty(), false, false);

    /**
     * The one decision of how the run ended. The order matters: a terminated QEMU is a timeout
     * whatever it said before; a failed start is a start failure even if a signal came too; a clean
     * power-off needs both the guest's word and a QEMU that did not fail after it.
     */
    ExitCode exitCode() {
        if (refused) {
            return ExitCode.ALREADY_RUNNING;
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

    Ending withStartFailed() {
        return new Ending(
                true,
                stoppedBeforeRun,
                qemuStarted,
                escalated,
                guestPoweredOff,
                qemuExit,
                helperFailed,
                refused);
    }

    Ending withStoppedBeforeRun() {
        return new Ending(
                startFailed,
                true,
                qemuStarted,
                escalated,
                guestPoweredOff,
                qemuExit,
                helperFailed,
                refused);
    }

    Ending withQemuStarted() {
        return new Ending(
                startFailed,
                stoppedBeforeRun,
                true,
                escalated,
                guestPoweredOff,
                qemuExit,
                helperFailed,
                refused);
    }

    Ending withEscalated() {
        return new Ending(
                startFailed,
                stoppedBeforeRun,
                qemuStarted,
                true,
                guestPoweredOff,
                qemuExit,
                helperFailed,
                refused);
    }

    Ending withGuestPoweredOff(boolean poweredOff) {
        return new Ending(
                startFailed,
                stoppedBeforeRun,
                qemuStarted,
                escalated,
                poweredOff,
                qemuExit,
                helperFailed,
                refused);
    }

    Ending withQemuExit(int code) {
        return new Ending(
                startFailed,
                stoppedBeforeRun,
                qemuStarted,
                escalated,
                guestPoweredOff,
                OptionalInt.of(code),
                helperFailed,
                refused);
    }

    Ending withRefused() {
        return new Ending(
                startFailed,
                stoppedBeforeRun,
                qemuStarted,
                escalated,
                guestPoweredOff,
                qemuExit,
                helperFailed,
                true);
    }

    Ending withHelperFailed() {
        return new Ending(
                startFailed,
                stoppedBeforeRun,
                qemuStarted,
                escalated,
                guestPoweredOff,
                qemuExit,
                true,
                refused);
    }
}
