package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lifecycle a user relies on, with the real launcher, QEMU, swtpm and the test guest. */
class LifecycleIT {

    @TempDir Path dir;

    @Test
    void sigtermPowersTheGuestOffAndExitsZero() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            vm.sigterm();
            int code = vm.awaitExit(Duration.ofSeconds(60));

            assertEquals(0, code, vm.log());
            assertTrue(vm.serialText().contains("VMRUNNER-GUEST: power button"), vm.serialText());
            assertTrue(vm.log().contains("The guest powered off as asked"), vm.log());
            assertTrue(TestVm.gone(qemu, Duration.ofSeconds(5)), "QEMU still runs");
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory left behind");
        }
    }

    @Test
    void guestThatIgnoresTheButtonIsTerminatedAfterPowerdownTimeout() throws Exception {
        try (TestVm vm =
                new TestVm(dir)
                        .template("vmrunner.powerbutton=ignore vmrunner.agent=off")
                        .config("powerdownTimeout: 3")) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            long signalled = System.nanoTime();
            vm.sigterm();
            int code = vm.awaitExit(Duration.ofSeconds(60));
            double seconds = (System.nanoTime() - signalled) / 1e9;

            assertEquals(4, code, vm.log());
            assertTrue(seconds >= 3 && seconds < 15, "stopped after " + seconds + " s");
            assertTrue(
                    vm.serialText().contains("VMRUNNER-GUEST: power button ignored"),
                    vm.serialText());
            assertTrue(vm.log().contains("did not power off within 3 s"), vm.log());
            assertTrue(TestVm.gone(qemu, Duration.ofSeconds(5)), "QEMU still runs");
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory left behind");
        }
    }

    @Test
    void guestPoweringOffByItselfEndsTheRunnerCleanly() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.boot();
            vm.guestCommandNoWait("poweroff -f");
            int code = vm.awaitExit(Duration.ofSeconds(60));

            assertEquals(0, code, vm.log());
            assertTrue(vm.log().contains("The guest powered off"), vm.log());
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory left behind");
        }
    }

    @Test
    void killedQemuGivesTheCrashCodeAndLeavesNoProcess() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config("useTpm: true")) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            long swtpm = vm.childPid("swtpm");
            ProcessHandle.of(qemu).orElseThrow().destroyForcibly(); // kill -9
            int code = vm.awaitExit(Duration.ofSeconds(30));

            assertEquals(5, code, vm.log());
            assertTrue(vm.log().contains("qemu was killed by signal 9"), vm.log());
            assertTrue(TestVm.gone(swtpm, Duration.ofSeconds(5)), "swtpm still runs");
            assertTrue(TestVm.gone(qemu, Duration.ofSeconds(5)), "QEMU still runs");
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory left behind");
        }
    }

    @Test
    void sigtermWhileWaitingForAHelperStopsAtOnce() throws Exception {
        // A helper that never gets ready: the runner is still starting when the signal comes.
        try (TestVm vm = new TestVm(dir).config("useTpm: true")) {
            helperNeverReady(vm);
            vm.start();
            vm.awaitLog("starting VM e2e", Duration.ofSeconds(30));
            long helper = vm.childPid("swtpm");
            long signalled = System.nanoTime();
            vm.sigterm();
            int code = vm.awaitExit(Duration.ofSeconds(30));

            assertEquals(0, code, vm.log());
            assertTrue(vm.log().contains("Stopping before the guest ran"), vm.log());
            assertTrue((System.nanoTime() - signalled) / 1e9 < 10, "slow stop");
            assertTrue(TestVm.gone(helper, Duration.ofSeconds(5)), "helper still runs");
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory left behind");
        }
    }

    /** A template whose swtpm never makes its socket: the runner stays starting. */
    static void helperNeverReady(TestVm vm) throws java.io.IOException {
        Files.createDirectories(vm.templates);
        Files.writeString(
                vm.templates.resolve("testguest.ftl.yaml"),
                """
                "swtpm":
                  "executable": [ "/bin/sleep", "/usr/bin/sleep" ]
                  "arguments": [ "600" ]
                "qemu":
                  "executable": [ "/usr/bin/qemu-system-x86_64" ]
                  "arguments": [ "-S" ]
                """);
        // The TPM state exists, so no swtpm_setup runs before the fake swtpm.
        Files.createDirectories(vm.dataDir);
        Files.writeString(vm.dataDir.resolve("tpm2-00.permall"), "");
    }

    @Test
    void sigtermRightAfterQemuStartedStopsWithoutOrphans() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.start();
            long qemu = vm.childPid("qemu");
            vm.sigterm();
            int code = vm.awaitExit(Duration.ofSeconds(60));

            // Either the signal came before the vCPUs ran (stopped at once) or just after
            // (the freshly booting guest is powered down): both are clean stops.
            assertEquals(0, code, vm.log());
            assertTrue(TestVm.gone(qemu, Duration.ofSeconds(5)), "QEMU still runs");
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory left behind");
        }
    }
}
