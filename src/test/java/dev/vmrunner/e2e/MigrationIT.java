package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.qmp.BlockInfo;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration between two runners on one host, end to end: a source runner that boots the test
 * guest, a target runner started with {@code --incoming} on the same data directory with its own
 * runtime directory, and {@code vmrunner migrate} between them. What a user sees: the guest goes on
 * (its uptime and a file in its RAM), the source ends with exit 10 without the power button, and
 * every failure leaves the guest running where it was, or the target ending with 11 and nothing
 * left behind.
 */
class MigrationIT {

    private static final Duration STOP = Duration.ofSeconds(60);
    private static final Duration MIGRATION = Duration.ofSeconds(120);

    @TempDir Path dir;

    /** The configuration of a runner of the shared VM; {@code runner} lines go under /Runner. */
    private static void config(TestVm vm, Path dataDir, List<String> runner, String... vmLines)
            throws IOException {
        StringBuilder yaml =
                new StringBuilder("\"/Runner\":\n")
                        .append("  dataDir: ")
                        .append(dataDir)
                        .append("\n  runtimeDir: ")
                        .append(vm.runtimeDir)
                        .append("\n  template: testguest.ftl.yaml\n");
        for (String line : runner) {
            yaml.append("  ").append(line).append('\n');
        }
        yaml.append("  vm:\n    name: mig\n    firmware: bios\n    accelerator: tcg\n")
                .append("    cpuModel: max\n    network: []\n");
        if (List.of(vmLines).stream().noneMatch(l -> l.startsWith("maximumRam:"))) {
            yaml.append("    maximumRam: 256M\n");
        }
        for (String line : vmLines) {
            yaml.append("    ").append(line).append('\n');
        }
        Files.writeString(vm.config, yaml.toString());
    }

    /**
     * A target: its own template (serial log and command channel of its own, copied into the shared
     * data directory by {@code updateTemplate}) and runtime directory, waiting on {@code port}.
     */
    private TestVm target(TestVm source, String name, int port, String... vmLines)
            throws Exception {
        Path d = dir.resolve(name);
        Files.createDirectories(d);
        TestVm target = new TestVm(d).template("");
        config(target, source.dataDir, List.of("updateTemplate: true"), vmLines);
        target.start("--incoming", "tcp:127.0.0.1:" + port);
        target.awaitLog("Waiting for the guest on", Duration.ofSeconds(60));
        return target;
    }

    private TestVm source(List<String> runner, String... vmLines) throws Exception {
        Path d = dir.resolve("source");
        Files.createDirectories(d);
        TestVm source = new TestVm(d).template("");
        config(source, source.dataDir, runner, vmLines);
        source.boot();
        return source;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** {@code vmrunner migrate -c CONFIG ARGS}, started. */
    private static Process migrate(TestVm source, Path output, String... args) throws IOException {
        List<String> command =
                new ArrayList<>(
                        List.of(
                                TestVm.LAUNCHER.toString(),
                                "migrate",
                                "-c",
                                source.config.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
    }

    private static int exitOf(Process p) throws Exception {
        Duration timeout = Waits.scaled(MIGRATION);
        assertTrue(
                p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS),
                "vmrunner migrate did not end within " + timeout);
        return p.exitValue();
    }

    private static double uptime(TestVm vm) throws IOException {
        String out = vm.guestCommand("cat /proc/uptime", Duration.ofSeconds(30)).strip();
        return Double.parseDouble(out.split("\\s+")[0]);
    }

    /** How often the runner has logged an active migration so far. */
    private static int activeCount(TestVm vm) throws IOException {
        return vm.log().split("Migration active", -1).length - 1;
    }

    /** Waits until the runner logs a migration active that it had not logged before. */
    private static void awaitActive(TestVm vm, int before) throws Exception {
        long deadline = System.nanoTime() + Waits.seconds(30).toNanos();
        while (activeCount(vm) <= before) {
            assertTrue(System.nanoTime() < deadline, "no migration became active:\n" + vm.log());
            Thread.sleep(50);
        }
    }

    @Test
    void theGuestGoesOnOnTheTargetWithItsTpmAndDisk() throws Exception {
        Path disk = dir.resolve("disk.img");
        Files.write(disk, new byte[1 << 20]);
        String[] vmLines = {"useTpm: true", "drives:", "  - type: raw", "    file: " + disk};
        byte[] marker = new byte[8];
        new SecureRandom().nextBytes(marker);
        try (TestVm source = source(List.of(), vmLines)) {
            GuestTpm.call(source, GuestTpm.nvDefineSpace(GuestTpm.TEST_NV_INDEX, marker.length));
            GuestTpm.call(source, GuestTpm.nvWrite(GuestTpm.TEST_NV_INDEX, marker));
            source.guestCommand("echo still-here > /run/marker", Duration.ofSeconds(30));
            double before = uptime(source);
            int port = freePort();
            try (TestVm target = target(source, "target", port, vmLines)) {
                Path out = dir.resolve("migrate.out");
                Process client = migrate(source, out, "--to", "tcp:127.0.0.1:" + port);
                assertEquals(0, exitOf(client), Files.readString(out) + source.log());
                assertEquals(10, source.awaitExit(STOP), source.log());
                assertFalse(
                        source.serialText().contains("VMRUNNER-GUEST: power button"),
                        "the source pressed the power button:\n" + source.serialText());
                target.awaitLog("is running", Duration.ofSeconds(30));

                // The same guest, not a new boot: its RAM and its clock went with it.
                assertEquals(
                        "still-here",
                        target.guestCommand("cat /run/marker", Duration.ofSeconds(30)).strip());
                assertTrue(uptime(target) > before, "the guest's uptime started again");
                assertFalse(target.serialText().contains("VMRUNNER-GUEST: booted"));
                assertArrayEquals(
                        marker,
                        GuestTpm.nvReadData(
                                GuestTpm.call(
                                        target,
                                        GuestTpm.nvRead(GuestTpm.TEST_NV_INDEX, marker.length))),
                        "the TPM lost its NV memory");
                List<BlockInfo> blocks = target.observer().queryBlock().get();
                assertTrue(
                        blocks.stream().anyMatch(b -> disk.toString().equals(b.file())),
                        "no disk on the target: " + blocks);

                // The target supervises: a live change, then a graceful stop.
                Files.writeString(
                        target.config,
                        Files.readString(target.config)
                                .replace("useTpm: true", "useTpm: true\n    currentRam: 192M"));
                target.awaitLog("vm.currentRam: 256M -> 192M: applied", Duration.ofSeconds(60));
                target.sigterm();
                assertEquals(0, target.awaitExit(STOP), target.log());
                assertTrue(
                        target.serialText().contains("VMRUNNER-GUEST: power button"),
                        target.serialText());
                assertFalse(Files.exists(source.dataDir.resolve("incoming.shape")));
                assertFalse(Files.exists(source.dataDir.resolve(".tpm-incoming")));
                assertTrue(Files.exists(source.dataDir.resolve("tpm2-00.permall")));
            }
        }
    }

    @Test
    void refusedCancelledAndStoppedMigrationsLeaveTheGuestRunning() throws Exception {
        try (TestVm source = source(List.of("migration:", "  maxBandwidth: 1M"))) {
            // A target with another RAM size: refused before anything moves.
            int port = freePort();
            try (TestVm wrong = target(source, "wrong", port, "maximumRam: 512M")) {
                Path out = dir.resolve("refused.out");
                int code = exitOf(migrate(source, out, "--to", "tcp:127.0.0.1:" + port));
                assertEquals(12, code, Files.readString(out));
                assertTrue(Files.readString(out).contains("vm.maximumRam"), Files.readString(out));
                assertTrue(wrong.runnerAlive(), "the target ended although nothing moved");
                wrong.sigterm();
                assertEquals(0, wrong.awaitExit(STOP), wrong.log());
            }
            // A second migration while one runs is refused; --cancel ends the first.
            port = freePort();
            try (TestVm target = target(source, "target1", port)) {
                Path out = dir.resolve("first.out");
                int active = activeCount(source);
                Process first = migrate(source, out, "--to", "tcp:127.0.0.1:" + port);
                awaitActive(source, active);
                Path second = dir.resolve("second.out");
                int code = exitOf(migrate(source, second, "--to", "tcp:127.0.0.1:" + port));
                assertEquals(12, code, Files.readString(second));
                assertTrue(Files.readString(second).contains("runs already"));
                Path cancel = dir.resolve("cancel.out");
                assertEquals(0, exitOf(migrate(source, cancel, "--cancel")));
                assertEquals(13, exitOf(first), Files.readString(out));
                assertEquals(11, target.awaitExit(STOP), target.log());
                assertEquals(List.of(), DevicesIT.processesOf(target), "target processes left");
                assertFalse(Files.exists(target.runtimeDir), "target runtime directory left");
            }
            assertTrue(source.runnerAlive());
            source.guestCommand("true", Duration.ofSeconds(30));

            // SIGTERM during a migration cancels it; the guest runs on.
            port = freePort();
            try (TestVm target = target(source, "target2", port)) {
                Path out = dir.resolve("sigterm.out");
                int active = activeCount(source);
                Process client = migrate(source, out, "--to", "tcp:127.0.0.1:" + port);
                awaitActive(source, active);
                source.sigterm();
                assertEquals(13, exitOf(client), Files.readString(out));
                assertEquals(11, target.awaitExit(STOP), target.log());
            }
            assertTrue(source.runnerAlive(), source.log());
            assertTrue(uptime(source) > 0);
            assertFalse(source.serialText().contains("VMRUNNER-GUEST: power button"));
            source.sigterm();
            assertEquals(0, source.awaitExit(STOP), source.log());
        }
    }

    @Test
    void aKilledPeerLeavesOneGuestOrACleanFailure() throws Exception {
        try (TestVm source = source(List.of("migration:", "  maxBandwidth: 1M"))) {
            // The target dies (runner and QEMU, as with its node): the source goes on.
            int port = freePort();
            try (TestVm target = target(source, "doomed", port)) {
                long qemu = target.childPid("qemu");
                Path out = dir.resolve("doomed.out");
                int active = activeCount(source);
                Process client = migrate(source, out, "--to", "tcp:127.0.0.1:" + port);
                awaitActive(source, active);
                target.killRunner();
                ProcessHandle.of(qemu).ifPresent(ProcessHandle::destroyForcibly);
                assertEquals(12, exitOf(client), Files.readString(out));
            }
            assertTrue(source.runnerAlive(), source.log());
            source.guestCommand("true", Duration.ofSeconds(30));

            // The source dies mid-migration: the target ends cleanly, nothing left behind.
            port = freePort();
            try (TestVm target = target(source, "orphan", port)) {
                long qemu = source.childPid("qemu");
                Path out = dir.resolve("killed.out");
                int active = activeCount(source);
                migrate(source, out, "--to", "tcp:127.0.0.1:" + port);
                awaitActive(source, active);
                source.killRunner();
                ProcessHandle.of(qemu).ifPresent(ProcessHandle::destroyForcibly);
                assertEquals(11, target.awaitExit(STOP), target.log());
                Thread.sleep(200);
                assertEquals(List.of(), DevicesIT.processesOf(target), "target processes left");
                assertFalse(Files.exists(target.runtimeDir), "target runtime directory left");
                assertFalse(
                        Files.exists(source.dataDir.resolve("incoming.shape")),
                        "the target's facts were left");
                assertTrue(
                        new String(Files.readAllBytes(target.log), StandardCharsets.UTF_8)
                                .contains("INCOMING_FAILED"));
            }
        }
    }
}
