package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.WAIT;
import static dev.vmrunner.e2e.ReconfigureIT.await;
import static dev.vmrunner.e2e.ReconfigureIT.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.vmrunner.qmp.Qmp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vmrunner status} asked while a real VM starts, runs, changes and stops: what it says is
 * what a second QMP monitor of the test's own sees.
 */
class StatusIT {

    static final long M = 1 << 20;

    @TempDir Path dir;

    /** {@code vmrunner status -c config [args]}: exit code and standard output. */
    record Answer(int code, String out, String err) {
        JsonObject json() {
            return JsonParser.parseString(out).getAsJsonObject();
        }
    }

    static Answer status(TestVm vm, String... args) throws Exception {
        List<String> command =
                new ArrayList<>(
                        List.of(TestVm.LAUNCHER.toString(), "status", "-c", vm.config.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(Waits.seconds(30).toMillis(), TimeUnit.MILLISECONDS));
        return new Answer(p.exitValue(), out, err);
    }

    @Test
    void statusFollowsTheVmThroughItsLife() throws Exception {
        Path a = ReconfigureIT.iso(dir, "a", "medium-a");
        Path b = ReconfigureIT.iso(dir, "b", "medium-b");
        String[] vmKeys = {
            "maximumRam: 512M",
            "currentRam: 512M",
            "maximumCpus: 2",
            "currentCpus: 1",
            "useTpm: true",
            "powerdownTimeout: 8",
            "drives:",
            "  - type: ide-cd",
            "    file: " + a
        };
        try (TestVm vm =
                new TestVm(dir)
                        .template("vmrunner.powerbutton=ignore vmrunner.agent=off")
                        .config(vmKeys)) {
            assertEquals(7, status(vm).code(), "no runner yet");

            // Starting: the first start makes the TPM state, which takes a moment.
            vm.start();
            List<String> states = new ArrayList<>();
            long deadline = System.nanoTime() + Waits.scaled(TestVm.BOOT).toNanos();
            while (!states.contains("running") && System.nanoTime() < deadline) {
                Answer answer = status(vm, "-o", "json");
                if (answer.code() == 0) {
                    String state = answer.json().get("state").getAsString();
                    if (states.isEmpty() || !states.get(states.size() - 1).equals(state)) {
                        states.add(state);
                    }
                }
            }
            assertEquals(List.of("starting", "running"), states, vm.log());
            assertEquals(0, status(vm, "--ready").code(), "ready once running");
            vm.awaitSerial("VMRUNNER-GUEST: booted", TestVm.BOOT);

            // Running: the figures are QEMU's.
            Qmp qmp = vm.observer();
            JsonObject s = status(vm, "-o", "json").json();
            assertEquals("e2e", s.get("name").getAsString());
            assertEquals(vm.childPid("qemu"), s.getAsJsonObject("qemu").get("pid").getAsLong());
            assertEquals(vm.childPid("swtpm"), s.getAsJsonObject("swtpm").get("pid").getAsLong());
            JsonObject ram = s.getAsJsonObject("ram");
            assertEquals(512 * M, ram.get("maximum").getAsLong());
            assertEquals(512 * M, ram.get("target").getAsLong());
            assertEquals(get(qmp.queryBalloon()), ram.get("actual").getAsLong());
            JsonObject cpus = s.getAsJsonObject("cpus");
            assertEquals(2, cpus.get("maximum").getAsInt());
            assertEquals(get(qmp.queryCpusFast()).size(), cpus.get("present").getAsInt());
            JsonObject drive = s.getAsJsonArray("drives").get(0).getAsJsonObject();
            assertEquals(ReconfigureIT.cd(qmp).file(), drive.get("medium").getAsString());
            assertTrue(s.getAsJsonArray("pending").isEmpty());
            printLatency(vm);

            // A live RAM and CPU change.
            String[] changed = vmKeys.clone();
            changed[1] = "currentRam: 256M";
            changed[3] = "currentCpus: 2";
            vm.config(changed);
            vm.awaitLog("vm.currentCpus: 1 -> 2: applied", WAIT);
            vm.awaitLog("vm.currentRam: the balloon has settled", WAIT);
            s =
                    await(
                            "status after the change",
                            () -> status(vm, "-o", "json").json(),
                            j ->
                                    j.getAsJsonObject("cpus").get("present").getAsInt() == 2
                                            && !j.getAsJsonObject("ram").get("actual").isJsonNull()
                                            && j.getAsJsonObject("ram").get("actual").getAsLong()
                                                    == 256 * M);
            assertEquals(256 * M, s.getAsJsonObject("ram").get("target").getAsLong());
            assertEquals(2, s.getAsJsonObject("cpus").get("target").getAsInt());
            assertEquals(get(qmp.queryCpusFast()).size(), 2);

            // A CD change waiting for the guest, which has the disc mounted.
            vm.guestCommand("mount -t iso9660 -o ro /dev/sr0 /mnt && cat /mnt/medium.txt", WAIT);
            changed[8] = "    file: " + b;
            vm.config(changed);
            vm.awaitLog("pending: the guest has locked the tray of cd0", WAIT);
            s = status(vm, "-o", "json").json();
            drive = s.getAsJsonArray("drives").get(0).getAsJsonObject();
            assertTrue(drive.get("locked").getAsBoolean(), s.toString());
            assertEquals(a.toString(), drive.get("medium").getAsString());
            assertEquals(b.toString(), drive.get("pending").getAsString());
            assertTrue(s.getAsJsonArray("pending").toString().contains("vm.drives[0].file"));
            String text = status(vm).out();
            assertTrue(text.contains("pending: " + b), text);
            assertTrue(text.contains("State          running since"), text);

            // Stopping: the guest ignores the button; the deadline is shown.
            vm.sigterm();
            s =
                    await(
                            "stopping",
                            () -> status(vm, "-o", "json").json(),
                            j -> "stopping".equals(j.get("state").getAsString()));
            assertFalse(s.get("powerdownDeadline").isJsonNull());
            assertEquals(8, status(vm, "--ready").code());
            assertEquals(4, vm.awaitExit(Duration.ofSeconds(60)));
            Answer after = status(vm);
            assertEquals(7, after.code());
            assertTrue(after.err().contains("no vmrunner is running VM e2e"), after.err());
            assertFalse(Files.exists(vm.runtimeDir.resolve("status.sock")));
        }
    }

    /** A figure, not an assertion: what one {@code vmrunner status} costs, launcher included. */
    private static void printLatency(TestVm vm) throws Exception {
        long[] millis = new long[10];
        for (int i = 0; i < millis.length; i++) {
            long t0 = System.nanoTime();
            assertEquals(0, status(vm, "-o", "json").code());
            millis[i] = (System.nanoTime() - t0) / 1_000_000;
        }
        java.util.Arrays.sort(millis);
        System.out.printf(
                "StatusIT: vmrunner status -o json: median %d ms, min %d ms, max %d ms (load %s)%n",
                millis[millis.length / 2],
                millis[0],
                millis[millis.length - 1],
                Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    }
}
