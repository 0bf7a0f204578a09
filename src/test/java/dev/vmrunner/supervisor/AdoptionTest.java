package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.status.ExitCode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runner taking on a QEMU an earlier runner left running ({@link AdoptionSequence}), below the
 * end-to-end level: the "QEMU" is a harmless live process of the test's, so that {@code /proc} sees
 * its pid, with the scripted peer as its monitor, on the fake clock.
 */
class AdoptionTest {

    @TempDir Path dir;

    private Process qemu;

    @AfterEach
    void endQemu() {
        if (qemu != null) {
            qemu.destroyForcibly();
        }
    }

    /** A process that lives until it is ended, standing in for the earlier runner's QEMU. */
    private Process liveQemu() throws IOException {
        qemu = new ProcessBuilder("sleep", "600").start();
        return qemu;
    }

    @Test
    void aRunningQemuIsAdoptedWithoutContAndTheFileAsItIsNowIsApplied() throws Exception {
        try (FakeVm vm = new FakeVm(dir, false, false, "currentRam: 512M")) {
            vm.adopt(liveQemu(), "running", vm.yaml());
            vm.awaitState("running");
            vm.awaitCommand("balloon"); // the file now asks for less RAM than was applied
            vm.idle();
            vm.awaitLog("Adopting QEMU (pid " + qemu.pid() + ")");
            assertFalse(vm.commands.contains("cont"), "a running QEMU got cont: " + vm.commands);
            assertTrue(vm.children.isEmpty(), "started " + vm.children);
            assertNotNull(vm.status().adoptedAt());
            assertEquals(qemu.pid(), vm.status().qemuPid());
            assertNull(vm.status().lastError());
            assertTrue(qemu.isAlive());
        }
    }

    @Test
    void sigtermPowersAnAdoptedQemuDownAndItsEndIsClean() throws Exception {
        try (FakeVm vm = new FakeVm(dir)) {
            vm.adopt(liveQemu(), "running", vm.yaml());
            vm.awaitState("running");
            vm.idle();
            vm.signal("TERM");
            vm.awaitCommand("system_powerdown");
            // QEMU ends (its exit status goes to its parent) and its monitor closes.
            assertEquals(ExitCode.CLEAN, vm.awaitEnd());
            vm.awaitLog("The guest powered off as asked");
            assertFalse(qemu.isAlive());
            assertEquals(List.of("system_powerdown"), List.copyOf(vm.commands));
        }
    }

    @Test
    void anAdoptedQemuStillInPrelaunchGetsItsCont() throws Exception {
        try (FakeVm vm = new FakeVm(dir)) {
            vm.adopt(liveQemu(), "prelaunch", vm.yaml());
            vm.awaitCommand("cont");
            vm.awaitState("running");
            vm.idle();
            vm.awaitLog("QEMU is prelaunch");
            assertEquals(List.of("cont"), List.copyOf(vm.commands));
        }
    }

    /**
     * QEMU ended between the claim and the adoption: nothing is started or left behind, and the run
     * ends at once, as an internal error (no QEMU was ever supervised).
     */
    @Test
    void aQemuGoneBeforeTheAdoptionEndsTheRunAtOnce() throws Exception {
        try (FakeVm vm = new FakeVm(dir)) {
            Process gone = liveQemu();
            gone.destroyForcibly();
            gone.waitFor();
            vm.adopt(gone, "running", vm.yaml());
            assertEquals(ExitCode.INTERNAL, vm.awaitEnd());
            vm.awaitLog("QEMU (pid " + gone.pid() + ") ended before it could be adopted");
            assertEquals(List.of(), List.copyOf(vm.commands));
            assertTrue(vm.children.isEmpty(), "started " + vm.children);
        }
    }
}
