package dev.vmrunner.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vmrunner.qmp.QmpException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end against the installed QEMU, without a guest: the vCPUs run nothing useful. An IT
 * (failsafe, {@code mvn verify}) because it starts real QEMU processes.
 */
@Timeout(120)
class RealQemuIT {
    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir Path dir;

    private Process start(String... machine) throws IOException {
        assumeTrue(Files.isExecutable(QEMU), QEMU + " is not installed");
        List<String> argv = new ArrayList<>(List.of(QEMU.toString()));
        argv.addAll(List.of(machine));
        argv.addAll(
                List.of(
                        "-S",
                        "-display",
                        "none",
                        "-nodefaults",
                        "-qmp",
                        "unix:" + dir.resolve("qmp.sock") + ",server=on,wait=off"));
        return new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("qemu.log").toFile())
                .start();
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(60, TimeUnit.SECONDS);
    }

    private String log() {
        try {
            return "QEMU output: " + Files.readString(dir.resolve("qemu.log"));
        } catch (IOException e) {
            return "QEMU output unreadable: " + e;
        }
    }

    private static void kill(Process qemu) throws InterruptedException {
        qemu.destroyForcibly();
        qemu.waitFor(30, TimeUnit.SECONDS);
    }

    @Test
    void prelaunchContAndQuit() throws Exception {
        Process qemu = start("-machine", "none");
        QmpConnectionTest.RecordingListener listener = new QmpConnectionTest.RecordingListener();
        try (QmpConnection connection =
                QmpConnection.connect(dir.resolve("qmp.sock"), TIMEOUT, listener)) {
            Qmp qmp = new Qmp(connection, TIMEOUT);
            assertEquals(
                    7,
                    connection
                            .greeting()
                            .getAsJsonObject("version")
                            .getAsJsonObject("qemu")
                            .get("major")
                            .getAsInt());

            assertEquals(new VmStatus("prelaunch", false), get(qmp.queryStatus()));
            get(qmp.cont());
            assertEquals(new VmStatus("running", true), get(qmp.queryStatus()));
            assertEquals("RESUME", listener.awaitEvents(1).get(0).name());

            get(qmp.quit());
            assertTrue(qemu.waitFor(60, TimeUnit.SECONDS), "QEMU did not exit after quit");
            assertEquals(0, qemu.exitValue(), this::log);
            assertNotNull(
                    listener.awaitDisconnect(), "QEMU hung up, so the cause must not be null");
            assertFalse(connection.isOpen());
        } finally {
            kill(qemu);
        }
    }

    @Test
    void facadeAgainstQ35WithCdromBalloonAndCpuSlot() throws Exception {
        Path iso = Files.write(dir.resolve("medium.iso"), new byte[2048 * 16]);
        Process qemu =
                start(
                        "-machine",
                        "q35",
                        "-accel",
                        "tcg",
                        "-cpu",
                        "max",
                        "-m",
                        "64",
                        "-smp",
                        "1,maxcpus=2",
                        "-device",
                        "virtio-balloon-pci,id=balloon0",
                        "-drive",
                        "if=none,id=cd0,media=cdrom",
                        "-device",
                        "ide-cd,drive=cd0,id=cdrom0");
        QmpConnectionTest.RecordingListener listener = new QmpConnectionTest.RecordingListener();
        try (QmpConnection connection =
                QmpConnection.connect(dir.resolve("qmp.sock"), TIMEOUT, listener)) {
            Qmp qmp = new Qmp(connection, TIMEOUT);

            BlockInfo empty = cdrom(qmp);
            assertEquals(new BlockInfo("cd0", "cdrom0", true, false, false, null), empty);
            get(qmp.insertMedium("cdrom0", iso.toString()));
            assertEquals(iso.toString(), cdrom(qmp).file());
            assertEquals(
                    Boolean.FALSE,
                    cdrom(qmp).trayOpen(),
                    "blockdev-change-medium closes the tray again");

            QmpException notOpen = failure(qmp.removeMedium("cdrom0"));
            assertEquals(Kind.ERROR_REPLY, notOpen.kind(), "removing needs an open tray");
            get(qmp.openTray("cdrom0", false)); // unlocked: opens at once
            get(qmp.removeMedium("cdrom0"));
            assertEquals(new BlockInfo("cd0", "cdrom0", true, false, true, null), cdrom(qmp));
            get(qmp.closeTray("cdrom0"));
            assertEquals(Boolean.FALSE, cdrom(qmp).trayOpen());

            List<HotpluggableCpu> slots = get(qmp.queryHotpluggableCpus());
            HotpluggableCpu free =
                    slots.stream().filter(HotpluggableCpu::isFree).findFirst().orElseThrow();
            assertEquals(1, get(qmp.queryCpusFast()).size());
            get(qmp.addCpu(free, "cpu-1"));
            assertEquals(2, get(qmp.queryCpusFast()).size());
            assertEquals(
                    0,
                    get(qmp.queryHotpluggableCpus()).stream()
                            .filter(HotpluggableCpu::isFree)
                            .count());

            get(qmp.setBalloonTarget(32L << 20)); // no guest driver, so nothing moves
            assertEquals(64L << 20, get(qmp.queryBalloon()));

            QmpException missing = failure(qmp.deleteDevice("no-such-device"));
            assertEquals("DeviceNotFound", missing.errorClass());
            assertTrue(
                    missing.getMessage()
                            .startsWith("Failed to run QMP command device_del: DeviceNotFound: "),
                    missing.getMessage());

            get(qmp.quit());
            assertTrue(qemu.waitFor(60, TimeUnit.SECONDS), "QEMU did not exit after quit");
            assertNotNull(listener.awaitDisconnect());
        } finally {
            kill(qemu);
        }
    }

    private static BlockInfo cdrom(Qmp qmp) throws Exception {
        return get(qmp.queryBlock()).stream()
                .filter(b -> "cdrom0".equals(b.qdevId()))
                .findFirst()
                .orElseThrow();
    }

    private static QmpException failure(CompletableFuture<?> future) {
        ExecutionException e =
                assertThrows(ExecutionException.class, () -> future.get(60, TimeUnit.SECONDS));
        assertTrue(
                e.getCause() instanceof QmpException, () -> "not a QmpException: " + e.getCause());
        return (QmpException) e.getCause();
    }
}
