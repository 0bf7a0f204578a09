package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.WAIT;
import static dev.vmrunner.e2e.ReconfigureIT.await;
import static dev.vmrunner.e2e.ReconfigureIT.count;
import static dev.vmrunner.e2e.ReconfigureIT.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.qmp.Qmp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runner killed with SIGKILL leaves QEMU running; the next runner adopts it and the guest never
 * notices: the same QEMU, one boot, live changes and a graceful stop as before.
 */
class AdoptIT {

    static final long M = 1 << 20;

    @TempDir Path dir;

    /** Kills the runner as the OOM killer would; QEMU goes on. Returns the old log. */
    static String killRunner(TestVm vm, long qemuPid) throws Exception {
        vm.killRunner();
        Thread.sleep(300);
        assertTrue(TestVm.alive(qemuPid), "QEMU must outlive a killed runner");
        return vm.log();
    }

    static Set<String> plugged(Qmp qmp) throws Exception {
        return get(qmp.queryHotpluggableCpus()).stream()
                .filter(slot -> !slot.isFree())
                .map(slot -> slot.props().toString())
                .collect(Collectors.toSet());
    }

    @Test
    void aNewRunnerAdoptsQemuAppliesChangesAndStopsItGracefully() throws Exception {
        String[] base = {"maximumRam: 512M", "maximumCpus: 3"};
        try (TestVm vm =
                new TestVm(dir).template("").config(base[0], "currentRam: 512M", base[1])) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            Qmp qmp = vm.observer();
            // A vCPU plugged and unplugged again: its slot is empty now, and QEMU 7.2 aborts if
            // one is plugged into it again.
            vm.config(base[0], "currentRam: 512M", base[1], "currentCpus: 2");
            vm.awaitLog("vm.currentCpus: 1 -> 2: applied", WAIT);
            Set<String> withTwo = plugged(qmp);
            vm.config(base[0], "currentRam: 512M", base[1], "currentCpus: 1");
            vm.awaitLog("vm.currentCpus: 2 -> 1: applied", WAIT);
            Set<String> emptied = new java.util.HashSet<>(withTwo);
            emptied.removeAll(plugged(qmp));
            assertEquals(1, emptied.size());

            String before = killRunner(vm, qemu);
            // Edited while no runner ran: applied on adoption.
            vm.config(base[0], "currentRam: 256M", base[1], "currentCpus: 2");
            long started = System.nanoTime();
            vm.start();
            vm.awaitLog("Adopting QEMU (pid " + qemu + ")", WAIT);
            vm.awaitLog("vm.currentRam: 512M -> 256M: applied", WAIT);
            long supervising = (System.nanoTime() - started) / 1_000_000;
            // QEMU 7.2 aborts on a plug after an unplug: the earlier runner's unplug is known.
            vm.awaitLog(
                    "vm.currentCpus: 1 -> 2: rejected in part: only 1 vCPUs: after an unplug",
                    WAIT);
            System.out.printf(
                    "adoption: new runner start -> first live change applied: %d ms%n",
                    supervising);
            await("balloon at 256M", () -> get(qmp.queryBalloon()), b -> b == 256 * M);
            assertEquals(1, get(qmp.queryCpusFast()).size());
            Set<String> now = plugged(qmp);
            assertFalse(now.containsAll(emptied), "the emptied slot was plugged again: " + now);
            assertEquals(qemu, vm.childPid("qemu"), "the same QEMU");
            assertTrue(before.contains("is running"), before);

            // A live change made to the adopted VM.
            vm.config(base[0], "currentRam: 384M", base[1], "currentCpus: 2");
            vm.awaitLog("vm.currentRam: 256M -> 384M: applied", WAIT);
            await("balloon at 384M", () -> get(qmp.queryBalloon()), b -> b == 384 * M);

            vm.sigterm();
            assertEquals(0, vm.awaitExit(Duration.ofSeconds(90)), vm.log());
            assertTrue(vm.serialText().contains("VMRUNNER-GUEST: power button"));
            assertEquals(1, count(vm.serialText(), "VMRUNNER-GUEST: booted"), "one boot only");
            assertTrue(TestVm.gone(qemu, Duration.ofSeconds(10)));
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory removed");
        }
    }

    @Test
    void aTpmVmStillBootingIsAdoptedWithItsSwtpm() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config("useTpm: true", "maximumCpus: 2")) {
            vm.start();
            vm.awaitLog("is running", TestVm.BOOT);
            long qemu = vm.childPid("qemu");
            long swtpm = vm.childPid("swtpm");
            killRunner(vm, qemu); // the guest is still booting
            vm.start();
            vm.awaitLog("Adopting QEMU (pid " + qemu + ")", WAIT);
            vm.awaitSerial("VMRUNNER-GUEST: booted", TestVm.BOOT);
            StatusIT.Answer status = StatusIT.status(vm, "-o", "json");
            assertTrue(status.json().get("adopted").getAsBoolean(), status.out());
            assertEquals(swtpm, status.json().getAsJsonObject("swtpm").get("pid").getAsLong());
            // A vCPU plugged into the adopted VM.
            vm.config("useTpm: true", "maximumCpus: 2", "currentCpus: 2");
            vm.awaitLog("vm.currentCpus: 1 -> 2: applied", WAIT);
            assertEquals(2, get(vm.observer().queryCpusFast()).size());
            vm.sigterm();
            assertEquals(0, vm.awaitExit(Duration.ofSeconds(90)), vm.log());
            assertEquals(1, count(vm.serialText(), "VMRUNNER-GUEST: booted"));
            assertTrue(TestVm.gone(qemu, Duration.ofSeconds(10)));
            assertTrue(TestVm.gone(swtpm, Duration.ofSeconds(10)), "swtpm ends with QEMU");
        }
    }

    @Test
    void aQemuThatDoesNotAnswerIsRefusedWithinTheBoundAndLeftAlone() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            killRunner(vm, qemu);
            new ProcessBuilder("kill", "-STOP", Long.toString(qemu)).start().waitFor();
            try {
                long started = System.nanoTime();
                vm.start();
                int code = vm.awaitExit(Duration.ofSeconds(60));
                double seconds = (System.nanoTime() - started) / 1e9;
                assertEquals(6, code, vm.log());
                assertTrue(vm.log().contains("does not answer on its monitor"), vm.log());
                assertTrue(seconds < 20, "refused after " + seconds + " s");
                assertTrue(TestVm.alive(qemu));
                assertTrue(Files.exists(vm.runtimeDir.resolve("monitor.sock")));
            } finally {
                new ProcessBuilder("kill", "-CONT", Long.toString(qemu)).start().waitFor();
            }
            // Untouched: it answers again, and a runner adopts it and powers it down.
            vm.start();
            vm.awaitLog("Adopting QEMU (pid " + qemu + ")", WAIT);
            vm.awaitLog("is running", WAIT);
            vm.sigterm();
            assertEquals(0, vm.awaitExit(Duration.ofSeconds(90)), vm.log());
            assertTrue(TestVm.gone(qemu, Duration.ofSeconds(10)));
        }
    }

    /**
     * kill -9 of the runner while it powers down a guest that ignores the button: the new runner
     * goes on with the stop to the first runner's deadline (exit 4), not to a fresh one.
     */
    @Test
    void aStopInFlightGoesOnToTheOriginalDeadline() throws Exception {
        try (TestVm vm =
                new TestVm(dir)
                        .template("vmrunner.powerbutton=ignore vmrunner.agent=off")
                        .config("powerdownTimeout: 40", "useTpm: true")) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            long swtpm = vm.childPid("swtpm");
            long asked = System.nanoTime();
            vm.sigterm();
            vm.awaitSerial("VMRUNNER-GUEST: power button ignored", WAIT);
            long pause = Duration.ofSeconds(18).toNanos() - (System.nanoTime() - asked);
            Thread.sleep(Math.max(0, pause / 1_000_000));
            String before = killRunner(vm, qemu);
            assertTrue(before.contains("Powering the guest down (waiting up to 40 s)"), before);
            double restarted = (System.nanoTime() - asked) / 1e9;
            vm.start();
            vm.awaitLog(
                    "was being stopped by the earlier runner; going on with the powerdown", WAIT);
            int code = vm.awaitExit(Duration.ofSeconds(90));
            double ended = (System.nanoTime() - asked) / 1e9;
            System.out.printf(
                    "stop in flight: SIGTERM at 0 s, runner killed and restarted at %.1f s,"
                            + " new runner exited %d at %.1f s (deadline 40 s)%n",
                    restarted, code, ended);
            assertEquals(4, code, vm.log());
            assertTrue(ended > 38, "ended before the deadline, at " + ended + " s");
            // A fresh timeout would end at restarted + 40 s at the earliest.
            assertTrue(ended < restarted + 30, "not the original deadline: " + ended + " s");
            assertTrue(TestVm.gone(qemu, Duration.ofSeconds(10)));
            assertTrue(TestVm.gone(swtpm, Duration.ofSeconds(10)), "swtpm ends with QEMU");
            assertEquals("none", FaultIT.leftovers(vm));
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory removed");
        }
    }
}
