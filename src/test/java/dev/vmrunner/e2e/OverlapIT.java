package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.FaultIT.leftovers;
import static dev.vmrunner.e2e.FaultIT.processes;
import static dev.vmrunner.e2e.ReconfigureIT.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The overlapped start: the launcher starts QEMU paused from the command line the runner cached at
 * the last start, while the JVM boots, and the runner takes it on once it is the VM's render. Every
 * doubt falls back to the ordinary start, and no QEMU is ever left without a runner.
 */
class OverlapIT {

    static final Duration STOP = Duration.ofSeconds(60);
    static final String OVERLAPPED = "Overlapped start: QEMU (pid ";
    static final String NOTHING = "Ordinary start: the launcher started nothing (";

    @TempDir Path dir;

    /** What a run showed: the runner's log and QEMU's command line. */
    record Run(String log, String qemuArgs) {}

    /** Boots, checks the path the log names, stops with SIGTERM (exit 0, nothing left). */
    static Run bootAndStop(TestVm vm, boolean overlapped) throws Exception {
        Files.deleteIfExists(vm.serial);
        vm.boot();
        long qemu = vm.childPid("qemu");
        String args =
                new String(
                                Files.readAllBytes(
                                        Path.of("/proc", Long.toString(qemu), "cmdline")),
                                StandardCharsets.UTF_8)
                        .replace('\0', ' ');
        String log = vm.log();
        assertEquals(overlapped, log.contains(OVERLAPPED + qemu + ")"), log);
        assertEquals(!overlapped, log.contains(NOTHING), log);
        vm.sigterm();
        assertEquals(0, vm.awaitExit(STOP), vm.log());
        assertEquals(1, count(vm.serialText(), "VMRUNNER-GUEST: booted"), "one boot");
        assertEquals("none", leftovers(vm));
        assertFalse(Files.exists(vm.runtimeDir), "runtime directory removed");
        return new Run(log, args);
    }

    /** The test guest's configuration, with the template taken from the templates directory. */
    static void configure(TestVm vm, String ram) throws IOException {
        Files.writeString(
                vm.config,
                vm.configText("e2e", "maximumRam: " + ram)
                        .replace("  template:", "  updateTemplate: true\n  template:"));
    }

    static Path cache(TestVm vm) throws IOException {
        try (DirectoryStream<Path> entries =
                Files.newDirectoryStream(vm.dir.resolve("cache/vmrunner/prestart"))) {
            return entries.iterator().next();
        }
    }

    @Test
    void aSecondStartIsOverlappedAndEveryChangeFallsBackToTheRightVm() throws Exception {
        try (TestVm vm = new TestVm(dir).template("")) {
            configure(vm, "256M");
            String first = bootAndStop(vm, false).log();
            assertTrue(first.contains(NOTHING + "no command line cached"), first);

            Run second = bootAndStop(vm, true);
            assertTrue(second.log().contains("taking it on"), second.log());
            assertTrue(second.qemuArgs().contains(" -m 268435456B "), second.qemuArgs());

            // A changed configuration: the launcher starts nothing, the runner the new VM.
            configure(vm, "320M");
            Run changed = bootAndStop(vm, false);
            assertTrue(
                    changed.log().contains("the configuration, the template or the runner's jar"),
                    changed.log());
            assertTrue(changed.qemuArgs().contains(" -m 335544320B "), changed.qemuArgs());
            bootAndStop(vm, true);

            // A changed template: the guest sees the new kernel command line.
            vm.template("overlap-template-2");
            bootAndStop(vm, false);
            assertTrue(vm.serialText().contains("overlap-template-2"), vm.serialText());

            // A cache from another build (another jar's hash): nothing started.
            bootAndStop(vm, true);
            Path vars = cache(vm).resolve("vars.sh");
            String text = Files.readString(vars);
            Matcher jar = Pattern.compile("([0-9a-f]{64})  \\S*vmrunner\\.jar").matcher(text);
            assertTrue(jar.find(), text);
            Files.writeString(vars, text.replace(jar.group(1), "0".repeat(64)));
            bootAndStop(vm, false);
            // ... and the ordinary start wrote the cache anew.
            bootAndStop(vm, true);
        }
    }

    @Test
    void aLauncherKilledRightAfterStartingQemuLeavesNothing() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            bootAndStop(vm, false);
            vm.start();
            long qemu = vm.childPid("qemu");
            vm.killRunner();
            assertTrue(
                    TestVm.gone(qemu, Duration.ofSeconds(15)),
                    "the pre-started QEMU outlived its launcher");
            assertEquals("none", leftovers(vm));
            // The next start finds the runtime directory it left: ordinary, and boots.
            String log = bootAndStop(vm, false).log();
            assertTrue(log.contains("the runtime directory"), log);
        }
    }

    @Test
    void aRunnerStartedRightAfterADeadLauncherEndsItsQemuNeverAdoptsIt() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            bootAndStop(vm, false);
            vm.start();
            long orphan = vm.childPid("qemu");
            vm.killRunner();
            // At once, before the dead launcher's watchdog ends its QEMU: this runner must not
            // continue a QEMU that watchdog would end under the guest.
            vm.start();
            vm.awaitLog("is running", TestVm.BOOT);
            // Either this runner found the orphan and ended it ("refused"), or the watchdog (which
            // looks once a second) had ended it already and the start was ordinary: both are safe,
            // which of the two is a race this test does not control.
            assertTrue(
                    vm.log().contains("Overlapped start refused: QEMU (pid " + orphan)
                            || vm.log().contains("starting VM"),
                    vm.log());
            assertTrue(TestVm.gone(orphan, Duration.ofSeconds(10)));
            vm.awaitSerial("VMRUNNER-GUEST: booted", TestVm.BOOT);
            Thread.sleep(Waits.seconds(3).toMillis()); // the dead launcher's watchdog's turn
            assertEquals(1, processes(vm, "qemu-system").size(), "one QEMU, still running");
            vm.sigterm();
            assertEquals(0, vm.awaitExit(STOP), vm.log());
            assertEquals(1, count(vm.serialText(), "VMRUNNER-GUEST: booted"));
            assertEquals("none", leftovers(vm));
        }
    }

    @Test
    void twoRunnersStartedAtOnceOnACachedVmGiveOneQemu() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            bootAndStop(vm, false);
            Files.deleteIfExists(vm.serial);
            Path secondLog = dir.resolve("second.log");
            ProcessBuilder second = vm.another(secondLog);
            Process first = vm.start();
            Process other = second.start();
            try {
                long deadline = System.nanoTime() + Waits.seconds(60).toNanos();
                while (first.isAlive() && other.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                Process refused = first.isAlive() ? other : first;
                Process winner = refused == first ? other : first;
                String refusedLog = refused == first ? vm.log() : Files.readString(secondLog);
                assertFalse(refused.isAlive(), "neither runner was refused");
                assertEquals(6, refused.exitValue(), refusedLog);
                FaultIT.awaitFile(vm.serial, "VMRUNNER-GUEST: booted");
                assertEquals(1, processes(vm, "qemu-system").size(), "one QEMU");
                String winnerLog = winner == first ? vm.log() : Files.readString(secondLog);
                assertTrue(winnerLog.contains("is running"), winnerLog);
                winner.destroy();
                assertTrue(winner.waitFor(Waits.scaled(STOP).toMillis(), TimeUnit.MILLISECONDS));
                assertEquals(0, winner.exitValue(), winnerLog);
                assertEquals(1, count(vm.serialText(), "VMRUNNER-GUEST: booted"));
                assertEquals("none", leftovers(vm));
            } finally {
                other.destroyForcibly();
            }
        }
    }

    @Test
    void sigtermDuringTheOverlapEndsTheStartCleanly() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            bootAndStop(vm, false);
            Files.deleteIfExists(vm.serial);
            vm.start();
            long qemu = vm.childPid("qemu");
            while (!Files.readSymbolicLink(Path.of("/proc", Long.toString(qemu), "exe"))
                    .getFileName()
                    .toString()
                    .startsWith("qemu")) {
                Thread.sleep(1); // the launcher's child still becoming QEMU
            }
            // QEMU held (SIGSTOP) keeps the overlap open: the runner, up meanwhile, waits for
            // its monitor; the signal comes before the guest can run.
            FaultIT.kill(qemu, "STOP");
            Thread.sleep(Waits.seconds(3).toMillis());
            vm.sigterm();
            FaultIT.kill(qemu, "CONT");
            int code = vm.awaitExit(STOP);
            assertEquals(0, code, vm.log());
            assertTrue(vm.log().contains(OVERLAPPED + qemu + ")"), vm.log());
            assertTrue(TestVm.gone(qemu, Duration.ofSeconds(10)));
            assertEquals("none", leftovers(vm));
            assertFalse(vm.serialText().contains("VMRUNNER-GUEST: booted"), "the guest ran");
            assertFalse(vm.serialText().contains("Linux version"), "the guest ran");
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory removed");
        }
    }
}
