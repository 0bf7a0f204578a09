package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.status.ExitCode;
import dev.vmrunner.status.Status;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runner that outlives its VM: vm.state, guestShutdownStops and the commands start, stop, stop
 * --force and reset in each state, on the fake clock.
 */
class PowerControlTest {

    @TempDir Path dir;

    private static void assertOk(String answer) {
        assertTrue(answer.startsWith("ok: "), answer);
    }

    private static void assertRefused(String answer) {
        assertTrue(answer.startsWith("refused: "), answer);
    }

    /** Stopped on purpose: no process, the runner up, ready, meant to be stopped. */
    private static void assertStoppedOnPurpose(FakeVm vm) throws InterruptedException {
        vm.awaitState("stopped");
        vm.idle();
        assertFalse(vm.ended(), "the runner must stay");
        Status s = vm.status();
        assertEquals(Status.STOPPED, s.desiredState());
        assertTrue(s.ready(), "a VM stopped on purpose is ready");
        assertNull(s.qemuPid());
        assertNull(s.powerdownDeadline());
        vm.children.values().forEach(c -> assertFalse(c.isAlive(), c.name() + " still runs"));
    }

    /** The VM runs again after a fresh start: a new QEMU, told to continue. */
    private static void assertRunsAgain(FakeVm vm, FakeChild before, int conts)
            throws InterruptedException {
        vm.awaitCommand("cont", conts);
        vm.awaitState("running");
        vm.idle();
        assertNotSame(before, vm.child("qemu"), "a fresh QEMU");
        assertEquals(Status.RUNNING, vm.status().desiredState());
    }

    @Test
    void stoppedInTheFileStartsNothingAndSigtermEndsClean() throws Exception {
        try (FakeVm vm = new FakeVm(dir, true, true, "state: Stopped").start()) {
            assertStoppedOnPurpose(vm);
            assertTrue(vm.children.isEmpty(), "nothing started: " + vm.children);
            vm.signal("TERM");
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
        }
    }

    @Test
    void stoppedInTheFileLaterStartsWhenItSaysRunning() throws Exception {
        try (FakeVm vm = new FakeVm(dir, true, true, "state: Stopped").start()) {
            assertStoppedOnPurpose(vm);
            vm.configFileChanged(vm.yaml("state: Running"));
            vm.awaitCommand("cont");
            vm.awaitState("running");
            assertTrue(vm.child("swtpm").isAlive(), "a fresh start has its TPM");
        }
    }

    @Test
    void vmStateStoppedPowersDownAndRunningBootsAgain() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            FakeChild first = vm.child("qemu");
            vm.configFileChanged(vm.yaml("state: Stopped"));
            vm.awaitCommand("system_powerdown");
            assertStoppedOnPurpose(vm);
            assertEquals(0, first.terminations, "powered off by the guest, not terminated");
            vm.configFileChanged(vm.yaml());
            assertRunsAgain(vm, first, 2);
            vm.signal("TERM");
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
        }
    }

    @Test
    void stopKeepsTheRunnerAndStartBootsAgain() throws Exception {
        try (FakeVm vm = new FakeVm(dir, true, true).running()) {
            FakeChild first = vm.child("qemu");
            assertOk(vm.ask("stop"));
            vm.awaitCommand("system_powerdown");
            vm.awaitLog("The guest powered off");
            vm.idle();
            vm.advance(Duration.ofSeconds(10)); // swtpm is asked to end after helperStop
            assertStoppedOnPurpose(vm);
            assertOk(vm.ask("stop"));
            assertOk(vm.ask("start"));
            assertRunsAgain(vm, first, 2);
            assertTrue(vm.child("swtpm").isAlive());
            assertOk(vm.ask("start"));
            vm.idle();
            assertEquals(2, vm.commands.stream().filter("cont"::equals).count());
        }
    }

    @Test
    void stopForceTerminatesQemuAtOnceAndTheRunnerStays() throws Exception {
        try (FakeVm vm = new FakeVm(dir, false, false, "powerdownTimeout: 900").running()) {
            vm.guestIgnoresButton = true;
            vm.child("qemu").ignoresTerm = true;
            assertOk(vm.ask("stop --force"));
            vm.idle();
            assertEquals(1, vm.child("qemu").terminations);
            vm.advance(Timeouts.DEFAULT.killGrace());
            assertEquals(1, vm.child("qemu").kills);
            assertStoppedOnPurpose(vm);
        }
    }

    @Test
    void stopForceDuringAGracefulStopTakesTheLastRungs() throws Exception {
        try (FakeVm vm = new FakeVm(dir, false, false, "powerdownTimeout: 900").running()) {
            vm.guestIgnoresButton = true;
            assertOk(vm.ask("stop"));
            vm.awaitCommand("system_powerdown");
            assertEquals(0, vm.child("qemu").terminations);
            assertOk(vm.ask("stop --force"));
            assertStoppedOnPurpose(vm);
            assertEquals(1, vm.child("qemu").terminations);
        }
    }

    @Test
    void stopWhileStartingEndsTheStartAndStays() throws Exception {
        try (FakeVm vm = new FakeVm(dir, false, true)) {
            vm.seedHangs = true;
            vm.start();
            FakeChild seed = vm.awaitChild("cloudInitImg");
            assertOk(vm.ask("stop"));
            assertStoppedOnPurpose(vm);
            assertEquals(1, seed.terminations);
            assertNull(vm.child("qemu"));
            vm.seedHangs = false;
            assertOk(vm.ask("start"));
            vm.awaitCommand("cont");
            vm.awaitState("running");
        }
    }

    @Test
    void resetOnlyWhileRunning() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            assertOk(vm.ask("reset"));
            vm.awaitCommand("system_reset");
            assertOk(vm.ask("stop"));
            assertStoppedOnPurpose(vm);
            assertRefused(vm.ask("reset"));
        }
    }

    @Test
    void startWhileStoppingStartsAgainOnceStopped() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            FakeChild first = vm.child("qemu");
            vm.guestIgnoresButton = true;
            assertOk(vm.ask("stop"));
            vm.awaitCommand("system_powerdown");
            assertTrue(vm.ask("start").contains("starts again once stopped"));
            vm.guestPowersOff();
            assertRunsAgain(vm, first, 2);
        }
    }

    @Test
    void aGuestPowerOffWithGuestShutdownStopsLeavesTheRunnerUp() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            FakeChild first = vm.child("qemu");
            vm.configFileChanged(
                    vm.yaml().replace("  vm:\n", "  guestShutdownStops: true\n  vm:\n"));
            vm.idle();
            vm.guestPowersOff();
            assertStoppedOnPurpose(vm);
            assertOk(vm.ask("start"));
            assertRunsAgain(vm, first, 2);
            vm.guestPowersOff();
            assertStoppedOnPurpose(vm);
        }
    }

    @Test
    void aCommandHoldsUntilTheFilesVmStateChanges() throws Exception {
        try (FakeVm vm = new FakeVm(dir, false, false, "powerdownTimeout: 900").running()) {
            FakeChild first = vm.child("qemu");
            assertOk(vm.ask("stop"));
            assertStoppedOnPurpose(vm);
            vm.configFileChanged(vm.yaml("powerdownTimeout: 60"));
            vm.idle();
            assertStoppedOnPurpose(vm); // another key's edit: the stop holds
            vm.configFileChanged(vm.yaml("powerdownTimeout: 60", "state: Stopped"));
            vm.idle();
            assertStoppedOnPurpose(vm);
            vm.configFileChanged(vm.yaml("powerdownTimeout: 60", "state: Running"));
            assertRunsAgain(vm, first, 2);
        }
    }

    @Test
    void aCommandRacingAFileEditTheLaterWins() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            FakeChild first = vm.child("qemu");
            // Both queued at once: the edit stops the VM, the start that follows it wins.
            vm.configFileChanged(vm.yaml("state: Stopped"));
            String answer = vm.ask("start");
            assertOk(answer);
            assertRunsAgain(vm, first, 2);
            // And the other way round: a start (running already), then the edit, which wins.
            assertOk(vm.ask("start"));
            vm.configFileChanged(vm.yaml("state: Running"));
            vm.configFileChanged(vm.yaml("state: Stopped"));
            assertStoppedOnPurpose(vm);
        }
    }

    @Test
    void sigtermDuringAStopEndsTheRunnerAndAStartIsRefused() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            vm.guestIgnoresButton = true;
            assertOk(vm.ask("stop"));
            vm.awaitCommand("system_powerdown");
            vm.signal("TERM");
            vm.idle();
            assertRefused(vm.ask("start"));
            vm.guestPowersOff();
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
        }
    }

    @Test
    void unknownLinesAreNoCommand() throws Exception {
        try (FakeVm vm = new FakeVm(dir).running()) {
            assertNull(vm.ask("halt"));
        }
    }
}
