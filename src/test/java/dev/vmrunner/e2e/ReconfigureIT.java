package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.vmrunner.config.ConfigMapVolume;
import dev.vmrunner.qmp.BlockInfo;
import dev.vmrunner.qmp.Qmp;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Editing the configuration of a running VM, as users do: the runner notices, applies what it can
 * live and says per key what happened. The test watches QEMU over its own QMP monitor.
 */
class ReconfigureIT {

    static final Duration WAIT = Duration.ofSeconds(30);
    static final long M = 1 << 20;

    @TempDir Path dir;

    static <T> T await(String what, Callable<T> probe, java.util.function.Predicate<T> done)
            throws Exception {
        long deadline = System.nanoTime() + Waits.scaled(WAIT).toNanos();
        T last = null;
        while (System.nanoTime() < deadline) {
            last = probe.call();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(100);
        }
        return fail(what + " not reached within " + Waits.scaled(WAIT) + "; last seen: " + last);
    }

    static <T> T get(java.util.concurrent.CompletableFuture<T> future) throws Exception {
        return future.get(Waits.seconds(10).toMillis(), TimeUnit.MILLISECONDS);
    }

    static long count(String text, String part) {
        return text.lines().filter(l -> l.contains(part)).count();
    }

    static BlockInfo cd(Qmp qmp) throws Exception {
        return get(qmp.queryBlock()).stream()
                .filter(b -> "cd0".equals(b.qdevId()))
                .findFirst()
                .orElseThrow();
    }

    static Path iso(Path dir, String name, String text) throws Exception {
        Path content = Files.createDirectories(dir.resolve(name + "-content"));
        Files.writeString(content.resolve("medium.txt"), text + "\n");
        Path iso = dir.resolve(name + ".iso");
        Process mk =
                new ProcessBuilder(
                                "xorriso",
                                "-as",
                                "mkisofs",
                                "-quiet",
                                "-V",
                                name,
                                "-o",
                                iso.toString(),
                                content.toString())
                        .redirectErrorStream(true)
                        .start();
        assertEquals(
                0,
                mk.waitFor(),
                new String(
                        mk.getInputStream().readAllBytes(),
                        java.nio.charset.StandardCharsets.UTF_8));
        return iso;
    }

    @Test
    void eachWayOfReplacingTheFileGivesOneReconciliation() throws Exception {
        Path volume = dir.resolve("configmap");
        TestVm vm = new TestVm(dir, volume.resolve("config.yaml")).template("");
        try (vm) {
            ConfigMapVolume.publish(
                    volume,
                    "config.yaml",
                    vm.configText("e2e", "maximumRam: 512M", "currentRam: 512M"));
            vm.boot();
            Qmp qmp = vm.observer();

            // The ConfigMap way: a new ..data directory swapped in.
            ConfigMapVolume.publish(
                    volume,
                    "config.yaml",
                    vm.configText("e2e", "maximumRam: 512M", "currentRam: 400M"));
            vm.awaitLog("vm.currentRam: 512M -> 400M: applied", WAIT);
            // An editor's way: a new file renamed over the old one (here: over the link).
            Path tmp = volume.resolve("config.yaml.tmp");
            Files.writeString(tmp, vm.configText("e2e", "maximumRam: 512M", "currentRam: 300M"));
            Files.move(
                    tmp,
                    volume.resolve("..data/config.yaml"),
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            vm.awaitLog("vm.currentRam: 400M -> 300M: applied", WAIT);
            // In place.
            Files.writeString(
                    volume.resolve("config.yaml"),
                    vm.configText("e2e", "maximumRam: 512M", "currentRam: 256M"));
            vm.awaitLog("vm.currentRam: 300M -> 256M: applied", WAIT);

            Thread.sleep(Waits.seconds(1).toMillis()); // a second reconciliation would show by now
            assertEquals(3, count(vm.log(), "Configuration file changed"), vm.log());
            await("balloon at 256M", () -> get(qmp.queryBalloon()), b -> b == 256 * M);
        }
    }

    @Test
    void memoryAndCpusFollowTheConfiguration() throws Exception {
        try (TestVm vm =
                new TestVm(dir)
                        .template("")
                        .config(
                                "maximumRam: 512M",
                                "currentRam: 512M",
                                "maximumCpus: 2",
                                "currentCpus: 1")) {
            vm.boot();
            Qmp qmp = vm.observer();

            vm.config("maximumRam: 512M", "currentRam: 256M", "maximumCpus: 2", "currentCpus: 1");
            vm.awaitLog("vm.currentRam: 512M -> 256M: applied", WAIT);
            await("balloon at 256M", () -> get(qmp.queryBalloon()), b -> b == 256 * M);
            vm.awaitLog("vm.currentRam: the balloon has settled, the guest has 256M", WAIT);

            vm.config("maximumRam: 512M", "currentRam: 256M", "maximumCpus: 2", "currentCpus: 2");
            vm.awaitLog("vm.currentCpus: 1 -> 2: applied", WAIT);
            vm.awaitSerial("VMRUNNER-GUEST: cpus 2", WAIT); // the guest onlined it
            assertEquals(2, get(qmp.queryCpusFast()).size());

            vm.config("maximumRam: 512M", "currentRam: 256M", "maximumCpus: 2", "currentCpus: 1");
            vm.awaitLog("vm.currentCpus: 2 -> 1: applied", WAIT);
            assertEquals(1, get(qmp.queryCpusFast()).size());
            vm.awaitSerial("VMRUNNER-GUEST: cpus 1", WAIT);
        }
    }

    @Test
    void cdMediaChangeAndWaitForTheGuestToReleaseALockedTray() throws Exception {
        Path a = iso(dir, "a", "medium-a");
        Path b = iso(dir, "b", "medium-b");
        String[] withA = {"drives:", "  - type: ide-cd", "    file: " + a};
        String[] withB = {"drives:", "  - type: ide-cd", "    file: " + b};
        try (TestVm vm = new TestVm(dir).template("").config(withA)) {
            vm.boot();
            Qmp qmp = vm.observer();
            // Right after a media change the guest's first mount may fail while its CD driver
            // notices the change; a person would just try again.
            String mount =
                    "for i in 1 2 3 4 5 6 7 8 9 10; do mount -t iso9660 -o ro /dev/sr0 /mnt"
                            + " 2>/dev/null && break; sleep 0.5; done; cat /mnt/medium.txt";

            // Tray unlocked: the medium changes at once and the guest reads the new one.
            vm.config(withB);
            vm.awaitLog("vm.drives[0].file: " + a + " -> " + b + ": applied", WAIT);
            String seen = vm.guestCommand(mount, WAIT);
            assertTrue(seen.contains("medium-b"), seen + "\nlog:\n" + vm.log());

            // Tray locked (mounted): the change waits, the old medium stays.
            vm.config(withA);
            vm.awaitLog("pending: the guest has locked the tray of cd0", WAIT);
            Thread.sleep(Waits.seconds(1).toMillis());
            assertEquals(b.toString(), cd(qmp).file());
            assertTrue(vm.guestCommand("cat /mnt/medium.txt", WAIT).contains("medium-b"));

            // The guest lets go: the waiting change completes without another edit.
            vm.guestCommand("umount /mnt && eject /dev/sr0", WAIT);
            vm.awaitLog("vm.drives[0].file: applied (medium " + a + ")", WAIT);
            await("medium a in cd0", () -> cd(qmp).file(), a.toString()::equals);
            assertTrue(vm.guestCommand(mount + "; umount /mnt", WAIT).contains("medium-a"));

            // Removing file ejects.
            vm.config("drives:", "  - type: ide-cd");
            vm.awaitLog("applied (ejected)", WAIT);
            assertNull(cd(qmp).file());
        }
    }

    @Test
    void aChangeWhileStartingIsAppliedOnceTheVmRuns() throws Exception {
        TestVm vm = new TestVm(dir).template("").config("maximumRam: 512M", "currentRam: 512M");
        // QEMU waits for a client on the command socket before its main loop runs, so the
        // runner stays "starting" (no QMP greeting yet) until the test connects there.
        Path template = vm.templates.resolve("testguest.ftl.yaml");
        Files.writeString(
                template,
                Files.readString(template)
                        .replace(
                                "command.sock,server=on,wait=off",
                                "command.sock,server=on,wait=on"));
        try (vm) {
            vm.start();
            await("QEMU waiting for a client", () -> Files.exists(vm.commandSocket), b -> b);
            vm.config("maximumRam: 512M", "currentRam: 256M");
            vm.awaitLog("vm.currentRam: 512M -> 256M: pending, applied once the VM runs", WAIT);
            assertTrue(!vm.log().contains("is running"), vm.log());
            try (SocketChannel release =
                    SocketChannel.open(UnixDomainSocketAddress.of(vm.commandSocket))) {
                assertTrue(release.isConnected());
                vm.awaitLog("vm.currentRam: 512M -> 256M: applied (balloon target 256M)", WAIT);
            }
        }
    }

    @Test
    void shorterPowerdownTimeoutEndsARunningPowerdown() throws Exception {
        try (TestVm vm =
                new TestVm(dir)
                        .template("vmrunner.powerbutton=ignore vmrunner.agent=off")
                        .config("powerdownTimeout: 600")) {
            vm.boot();
            long signalled = System.nanoTime();
            vm.sigterm();
            vm.awaitLog("Powering the guest down (waiting up to 600 s)", WAIT);
            vm.config("powerdownTimeout: 4");
            int code = vm.awaitExit(WAIT);
            double seconds = (System.nanoTime() - signalled) / 1e9;

            assertEquals(4, code, vm.log());
            assertTrue(vm.log().contains("vm.powerdownTimeout: 600 -> 4: applied"), vm.log());
            assertTrue(seconds >= 3.5 && seconds < 15, "terminated after " + seconds + " s");
        }
    }

    @Test
    void increasedResetCounterRebootsTheGuest() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.boot();
            Files.writeString(
                    vm.config,
                    Files.readString(vm.config).replace("  vm:", "  resetCounter: 1\n  vm:"));
            vm.awaitLog("resetCounter: (none) -> 1: applied (VM reset)", WAIT);
            await(
                    "a second boot",
                    () -> count(vm.serialText(), "VMRUNNER-GUEST: booted"),
                    n -> n >= 2);
        }
    }

    @Test
    void invalidEditIsIgnoredAndTheNextValidOneApplied() throws Exception {
        try (TestVm vm =
                new TestVm(dir).template("").config("maximumRam: 512M", "currentRam: 512M")) {
            vm.boot();
            Qmp qmp = vm.observer();

            vm.config("maximumRam: 512M", "currentRam: 1G"); // above maximumRam
            vm.awaitLog("Ignoring the changed configuration, it is invalid", WAIT);
            assertTrue(
                    vm.log().contains("vm.currentRam: 1G is larger than vm.maximumRam"), vm.log());
            assertTrue(get(qmp.queryStatus()).running());
            assertEquals(512 * M, get(qmp.queryBalloon()));

            vm.config("maximumRam: 512M", "currentRam: 384M");
            vm.awaitLog("vm.currentRam: 512M -> 384M: applied", WAIT);
            await("balloon at 384M", () -> get(qmp.queryBalloon()), b -> b == 384 * M);
        }
    }
}
