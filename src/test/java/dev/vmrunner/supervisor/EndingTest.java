package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmrunner.status.ExitCode;
import org.junit.jupiter.api.Test;

/** The one exit decision, case by case. */
class EndingTest {

    private static final Ending RAN = Ending.NOTHING.withQemuStarted();

    @Test
    void aGuestPowerOffWithQemuExitingZeroIsClean() {
        assertEquals(ExitCode.CLEAN, RAN.withGuestPoweredOff(true).withQemuExit(0).exitCode());
    }

    @Test
    void aGuestPowerOffWithAnUnknownExitStatusIsClean() {
        // A QEMU that is not the runner's child: only its SHUTDOWN event tells.
        assertEquals(ExitCode.CLEAN, RAN.withGuestPoweredOff(true).exitCode());
    }

    @Test
    void qemuGoneWithoutTheGuestsPowerOffIsAFailure() {
        assertEquals(ExitCode.QEMU_FAILED, RAN.withQemuExit(0).exitCode());
        assertEquals(ExitCode.QEMU_FAILED, RAN.withQemuExit(137).exitCode());
        assertEquals(ExitCode.QEMU_FAILED, RAN.exitCode());
    }

    @Test
    void aPowerOffFollowedByAFailingQemuIsAFailure() {
        assertEquals(
                ExitCode.QEMU_FAILED, RAN.withGuestPoweredOff(true).withQemuExit(1).exitCode());
    }

    @Test
    void aTerminatedQemuIsATimeoutWhateverElseHappened() {
        assertEquals(
                ExitCode.POWERDOWN_TIMEOUT,
                RAN.withGuestPoweredOff(true).withQemuExit(0).withEscalated().exitCode());
        assertEquals(ExitCode.POWERDOWN_TIMEOUT, RAN.withHelperFailed().withEscalated().exitCode());
    }

    @Test
    void aFailedStartWinsOverAStopDuringIt() {
        assertEquals(
                ExitCode.START_FAILURE,
                RAN.withStoppedBeforeRun().withStartFailed().withQemuExit(143).exitCode());
        assertEquals(ExitCode.START_FAILURE, Ending.NOTHING.withStartFailed().exitCode());
    }

    @Test
    void aStopBeforeTheGuestRanIsClean() {
        assertEquals(ExitCode.CLEAN, Ending.NOTHING.withStoppedBeforeRun().exitCode());
        assertEquals(ExitCode.CLEAN, RAN.withStoppedBeforeRun().withQemuExit(143).exitCode());
    }

    @Test
    void aHelperThatFailedUnderTheVmIsAFailureEvenAfterAGracefulStop() {
        assertEquals(
                ExitCode.QEMU_FAILED,
                RAN.withHelperFailed().withGuestPoweredOff(true).withQemuExit(0).exitCode());
    }

    @Test
    void aQemuThatCouldNotBeAdoptedIsAlreadyRunning() {
        assertEquals(ExitCode.ALREADY_RUNNING, RAN.withRefused().exitCode());
    }

    @Test
    void nothingStartedAndNothingAskedIsAnInternalError() {
        assertEquals(ExitCode.INTERNAL, Ending.NOTHING.exitCode());
    }
}
