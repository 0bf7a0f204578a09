package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.status.ExitCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The supervisor's decisions on a fake clock with fake children and a scripted QMP peer: the
 * shutdown ladder, the exit decision and every signal in every state, each in milliseconds.
 */
class SupervisorTest {

    @TempDir Path dir;

    @Test
    void sigtermPressesThePowerButtonAndAGuestThatPowersOffEndsClean() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            vm.signal("TERM");
            vm.awaitCommand("system_powerdown");
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
            assertEquals(0, vm.child("qemu").terminations, "QEMU must not be terminated");
        }
    }

    @Test
    void aGuestThatPowersOffByItselfEndsClean() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            vm.guestPowersOff();
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
        }
    }

    @Test
    void theButtonIsPressedAgainEveryFiveSecondsUntilTheTimeoutThenQemuIsTerminated()
            throws Exception {
        try (FakeVm vm = new FakeVm(dir, false, false, "powerdownTimeout: 900").running()) {
            vm.guestIgnoresButton = true;
            vm.signal("TERM");
            vm.awaitCommand("system_powerdown", 1);
            vm.advance(Duration.ofSeconds(5));
            vm.awaitCommand("system_powerdown", 2);
            vm.advance(Duration.ofSeconds(5));
            vm.awaitCommand("system_powerdown", 3);
            vm.advance(Duration.ofSeconds(880));
            assertEquals(0, vm.child("qemu").terminations, "terminated before the timeout");
            vm.advance(Duration.ofSeconds(11));
            assertEquals(ExitCode.POWERDOWN_TIMEOUT, vm.awaitEnd());
            assertEquals(1, vm.child("qemu").terminations);
            assertEquals(0, vm.child("qemu").kills);
        }
    }

    @Test
    void furtherSignalsPressAgainButNeverShortenTheWait() throws Exception {
        try (FakeVm vm = new FakeVm(dir, false, false, "powerdownTimeout: 60").running()) {
            vm.guestIgnoresButton = true;
            vm.signal("TERM");
            vm.awaitCommand("system_powerdown", 1);
            vm.signal("TERM");
            vm.awaitCommand("system_powerdown", 2);
            vm.signal("INT");
            vm.awaitCommand("system_powerdown", 3);
            vm.advance(Duration.ofSeconds(59));
            assertFalse(vm.ended());
            assertEquals(0, vm.child("qemu").terminations);
            vm.advance(Duration.ofSeconds(2));
            assertEquals(ExitCode.POWERDOWN_TIMEOUT, vm.awaitEnd());
        }
    }

    @Test
    void aFrozenQemuIsKilledAfterTheGracePeriodOfSigterm() throws Exception {
        try (FakeVm vm = new FakeVm(dir, false, false, "powerdownTimeout: 10").running()) {
            vm.guestIgnoresButton = true;
            vm.child("qemu").ignoresTerm = true;
            vm.signal("TERM");
            vm.awaitCommand("system_powerdown");
            vm.advance(Duration.ofSeconds(11));
            assertEquals(1, vm.child("qemu").terminations);
            assertFalse(vm.ended());
            vm.advance(Duration.ofSeconds(6));
            assertEquals(ExitCode.POWERDOWN_TIMEOUT, vm.awaitEnd());
            assertEquals(1, vm.child("qemu").kills);
        }
    }

    @Test
    void aLowerPowerdownTimeoutDuringThePowerdownTakesEffectAtOnce() throws Exception {
        try (FakeVm vm = new FakeVm(dir, false, false, "powerdownTimeout: 900").running()) {
            vm.guestIgnoresButton = true;
            vm.signal("TERM");
            vm.awaitCommand("system_powerdown");
            vm.advance(Duration.ofSeconds(3));
            vm.configFileChanged(
                    Files.readString(vm.dir.resolve("config.yaml"))
                            .replace("powerdownTimeout: 900", "powerdownTimeout: 4"));
            vm.idle();
            vm.advance(Duration.ofSeconds(2));
            assertEquals(ExitCode.POWERDOWN_TIMEOUT, vm.awaitEnd());
        }
    }

    @Test
    void theRehearsedConfigChangeAfterTheStartSendsNothing() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            List<String> before = List.copyOf(vm.commands);
            vm.advance(Duration.ofSeconds(2)); // the rehearsal runs 1 s after the VM runs
            assertEquals(before, List.copyOf(vm.commands));
            vm.signal("TERM");
            vm.awaitCommand("system_powerdown");
            // Anything the rehearsal sent arrived before the button press (one socket, in order).
            assertEquals(
                    Stream.concat(before.stream(), Stream.of("system_powerdown")).toList(),
                    List.copyOf(vm.commands));
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
        }
    }

    @Test
    void qemuCrashingWhileTheVmRunsIsExitFive() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            vm.dropMonitor();
            vm.child("qemu").exit(139);
            assertEquals(ExitCode.QEMU_FAILED, vm.awaitEnd());
        }
    }

    @Test
    void qemuFailingDuringStartIsExitThree() throws Exception {
        try (FakeVm vm = new FakeVm(dir, false, true)) {
            vm.seedHangs = true;
            vm.start();
            vm.awaitChild("cloudInitImg").exit(1);
            assertEquals(ExitCode.START_FAILURE, vm.awaitEnd());
            assertNull(vm.child("qemu"), "QEMU must not start after a failed step");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT"})
    void aStopDuringStartEndsTheStepAndStartsNothingMore(String signal) throws Exception {
        try (FakeVm vm = new FakeVm(dir, true, true)) {
            vm.seedHangs = true;
            vm.start();
            vm.awaitChild("cloudInitImg");
            vm.signal(signal);
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
            assertEquals(1, vm.child("cloudInitImg").terminations);
            assertEquals(1, vm.child("swtpm").terminations);
            assertNull(vm.child("qemu"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"HUP", "USR1", "USR2", "ALRM", "VTALRM", "PROF", "IO", "PWR", "XCPU"})
    void otherSignalsLeaveARunningVmRunning(String signal) throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            vm.signal(signal);
            vm.idle();
            vm.advance(Duration.ofSeconds(30));
            assertFalse(vm.ended());
            assertEquals(0, vm.child("qemu").terminations);
            assertFalse(vm.commands.contains("system_powerdown"));
            vm.signal("TERM");
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
            // A press the signal made would have arrived before the one SIGTERM made.
            assertEquals(1, vm.commands.stream().filter("system_powerdown"::equals).count());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"HUP", "USR1", "USR2", "PWR"})
    void otherSignalsDuringStartOrPowerdownChangeNothing(String signal) throws Exception {
        try (FakeVm vm = new FakeVm(dir, false, true, "powerdownTimeout: 20")) {
            vm.seedHangs = true;
            vm.start();
            vm.awaitChild("cloudInitImg");
            vm.signal(signal);
            vm.idle();
            assertEquals(0, vm.child("cloudInitImg").terminations);
            vm.child("cloudInitImg").exit(0);
            vm.awaitCommand("cont");
            vm.guestIgnoresButton = true;
            vm.signal("TERM");
            vm.awaitCommand("system_powerdown");
            vm.signal(signal);
            vm.advance(Duration.ofSeconds(19));
            assertEquals(0, vm.child("qemu").terminations);
            vm.advance(Duration.ofSeconds(2));
            assertEquals(ExitCode.POWERDOWN_TIMEOUT, vm.awaitEnd());
        }
    }

    @Test
    void aLostMonitorIsConnectedAgainSoThatTheButtonCanStillBePressed() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            vm.dropMonitor();
            vm.advance(Duration.ofSeconds(1)); // the reconnect pause
            vm.awaitLog("Connected to QEMU's monitor again");
            vm.signal("TERM");
            vm.awaitCommand("system_powerdown");
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
        }
    }

    @Test
    void swtpmEndingWhileTheVmRunsPowersTheVmDownAndIsExitFive() throws Exception {
        try (FakeVm vm = new FakeVm(dir, true, false).running()) {
            vm.child("swtpm").exit(1);
            vm.idle();
            vm.advance(Duration.ofSeconds(2));
            vm.awaitCommand("system_powerdown");
            assertEquals(ExitCode.QEMU_FAILED, vm.awaitEnd());
            assertEquals(0, vm.child("qemu").terminations);
        }
    }

    @Test
    void passtStartsBeforeQemuAndQemuWaitsForItsNewSocket() throws Exception {
        try (FakeVm vm = new FakeVm(dir, true, false)) {
            vm.passt = true;
            vm.passtSilent = true;
            Path socket = vm.config.runtimeDir().resolve(RuntimeFiles.PASST);
            Files.createFile(socket); // left by an earlier run: no sign of this passt
            vm.start();
            vm.awaitChild("passt");
            vm.idle();
            assertNull(vm.child("qemu"));
            Files.createFile(socket); // passt listens
            vm.advance(Duration.ofMillis(5));
            vm.awaitChild("qemu");
            assertEquals(0, vm.child("swtpm").terminations);
            vm.signal("TERM");
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
        }
    }

    @Test
    void passtEndingWhileTheVmRunsPowersTheVmDown() throws Exception {
        try (FakeVm vm = new FakeVm(dir)) {
            vm.passt = true;
            vm.running();
            vm.child("passt").exit(1);
            vm.idle();
            vm.advance(Duration.ofSeconds(2));
            vm.awaitLog(
                    "passt exited with code 1 while the VM runs; the guest has lost its network");
            vm.awaitCommand("system_powerdown");
            assertEquals(ExitCode.QEMU_FAILED, vm.awaitEnd());
            assertEquals(0, vm.child("qemu").terminations);
        }
    }

    @Test
    void swtpmEndingWithQemuIsNoFailure() throws Exception {
        try (FakeVm vm = new FakeVm(dir, true, false).running()) {
            vm.child("swtpm").exit(0); // seen first, as it can be
            vm.idle();
            vm.advance(Duration.ofMillis(900)); // QEMU's end follows within the grace
            vm.guestPowersOff();
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
        }
    }

    @Test
    void aLiveChangeReachesQemu() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            vm.configFileChanged(
                    Files.readString(vm.dir.resolve("config.yaml")) + "    currentRam: 512M\n");
            vm.awaitCommand("balloon");
            vm.signal("TERM");
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
            assertTrue(vm.commands.indexOf("balloon") < vm.commands.indexOf("system_powerdown"));
        }
    }

    @Test
    void aSecondStopDuringStartIsHarmless() throws Exception {
        try (FakeVm vm = new FakeVm(dir, true, true)) {
            vm.seedHangs = true;
            vm.start();
            vm.awaitChild("cloudInitImg");
            vm.signal("TERM");
            vm.signal("TERM");
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
            assertNull(vm.child("qemu"));
        }
    }
}
