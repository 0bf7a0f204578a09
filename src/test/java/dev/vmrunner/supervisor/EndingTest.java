package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmrunner.status.ExitCode;
import java.util.OptionalInt;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The one exit decision, case by case. */
class EndingTest {

    /** The exit code of a run with these facts, QEMU not started. */
    private static ExitCode nothing(Consumer<Ending> facts) {
        Ending ending = new Ending();
        facts.accept(ending);
        return ending.exitCode();
    }

    /** The exit code of a run whose QEMU was started, with these facts. */
    private static ExitCode ran(Consumer<Ending> facts) {
        return nothing(
                e -> {
                    e.qemuStarted = true;
                    facts.accept(e);
                });
    }

    private static OptionalInt exit(int code) {
        return OptionalInt.of(code);
    }

    @Test
    void aGuestPowerOffWithQemuExitingZeroIsClean() {
        assertEquals(
                ExitCode.CLEAN,
                ran(
                        e -> {
                            e.guestPoweredOff = true;
                            e.qemuExit = exit(0);
                        }));
    }

    @Test
    void aGuestPowerOffWithAnUnknownExitStatusIsClean() {
        // A QEMU that is not the runner's child: only its SHUTDOWN event tells.
        assertEquals(ExitCode.CLEAN, ran(e -> e.guestPoweredOff = true));
    }

    @Test
    void qemuGoneWithoutTheGuestsPowerOffIsAFailure() {
        assertEquals(ExitCode.QEMU_FAILED, ran(e -> e.qemuExit = exit(0)));
        assertEquals(ExitCode.QEMU_FAILED, ran(e -> e.qemuExit = exit(137)));
        assertEquals(ExitCode.QEMU_FAILED, ran(e -> {}));
    }

    @Test
    void aPowerOffFollowedByAFailingQemuIsAFailure() {
        assertEquals(
                ExitCode.QEMU_FAILED,
                ran(
                        e -> {
                            e.guestPoweredOff = true;
                            e.qemuExit = exit(1);
                        }));
    }

    @Test
    void aTerminatedQemuIsATimeoutWhateverElseHappened() {
        assertEquals(
                ExitCode.POWERDOWN_TIMEOUT,
                ran(
                        e -> {
                            e.guestPoweredOff = true;
                            e.qemuExit = exit(0);
                            e.escalated = true;
                        }));
        assertEquals(
                ExitCode.POWERDOWN_TIMEOUT,
                ran(
                        e -> {
                            e.helperFailed = true;
                            e.escalated = true;
                        }));
    }

    @Test
    void aFailedStartWinsOverAStopDuringIt() {
        assertEquals(
                ExitCode.START_FAILURE,
                ran(
                        e -> {
                            e.stoppedBeforeRun = true;
                            e.startFailed = true;
                            e.qemuExit = exit(143);
                        }));
        assertEquals(ExitCode.START_FAILURE, nothing(e -> e.startFailed = true));
    }

    @Test
    void aStopBeforeTheGuestRanIsClean() {
        assertEquals(ExitCode.CLEAN, nothing(e -> e.stoppedBeforeRun = true));
        assertEquals(
                ExitCode.CLEAN,
                ran(
                        e -> {
                            e.stoppedBeforeRun = true;
                            e.qemuExit = exit(143);
                        }));
    }

    @Test
    void aHelperThatFailedUnderTheVmIsAFailureEvenAfterAGracefulStop() {
        assertEquals(
                ExitCode.QEMU_FAILED,
                ran(
                        e -> {
                            e.helperFailed = true;
                            e.guestPoweredOff = true;
                            e.qemuExit = exit(0);
                        }));
    }

    @Test
    void aQemuThatCouldNotBeAdoptedIsAlreadyRunning() {
        assertEquals(ExitCode.ALREADY_RUNNING, ran(e -> e.refused = true));
    }

    @Test
    void nothingStartedAndNothingAskedIsAnInternalError() {
        assertEquals(ExitCode.INTERNAL, nothing(e -> {}));
    }
}
