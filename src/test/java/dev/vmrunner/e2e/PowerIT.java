package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.await;
import static dev.vmrunner.e2e.ReconfigureIT.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
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
 * A runner that outlives its VM, with the real launcher, QEMU, swtpm and the test guest: {@code
 * guestShutdownStops}, {@code vm.state}, and the commands {@code start}, {@code stop}, {@code stop
 * --force} and {@code reset} with their exit codes with no runner, while starting, while stopping.
 */
class PowerIT {

    @TempDir Path dir;

    /** {@code vmrunner COMMAND -c config [args]}: its exit code and output. */
    static StatusIT.Answer vmrunner(TestVm vm, String command, String... args) throws Exception {
        List<String> line =
                new ArrayList<>(
                        List.of(TestVm.LAUNCHER.toString(), command, "-c", vm.config.toString()));
        line.addAll(List.of(args));
        Process p = new ProcessBuilder(line).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(Waits.seconds(30).toMillis(), TimeUnit.MILLISECONDS));
        return new StatusIT.Answer(p.exitValue(), out, err);
    }

    private static JsonObject awaitState(TestVm vm, String state) throws Exception {
        return await(
                "state " + state,
                () -> {
                    StatusIT.Answer a = StatusIT.status(vm, "-o", "json");
                    return a.code() == 0 ? a.json() : null;
                },
                s -> s != null && state.equals(s.get("state").getAsString()));
    }

    private static void assertCode(int expected, StatusIT.Answer answer, TestVm vm)
            throws Exception {
        assertEquals(expected, answer.code(), answer.out() + answer.err() + "\n" + vm.log());
    }

    /** Stopped on purpose: the runner up, no QEMU or swtpm, ready, the claim still held. */
    private static void assertStoppedOnPurpose(TestVm vm, long... pids) throws Exception {
        JsonObject s = awaitState(vm, "stopped");
        assertTrue(vm.runnerAlive(), "the runner must stay:\n" + vm.log());
        assertEquals("stopped", s.get("desiredState").getAsString());
        assertTrue(s.getAsJsonObject("qemu").get("pid").isJsonNull(), s.toString());
        for (long pid : pids) {
            assertTrue(TestVm.gone(pid, Duration.ofSeconds(5)), pid + " still runs");
        }
        assertCode(0, StatusIT.status(vm, "--ready"), vm);
        assertTrue(Files.exists(vm.runtimeDir.resolve("status.sock")));
        assertTrue(!Files.exists(vm.runtimeDir.resolve("runner-state.json")), "stale state");
        // The claim is held: a second runner of the VM is refused.
        Path secondLog = vm.dir.resolve("second.log");
        Process second = vm.another(secondLog).start();
        assertTrue(second.waitFor(Waits.seconds(60).toMillis(), TimeUnit.MILLISECONDS));
        assertEquals(6, second.exitValue(), Files.readString(secondLog));
    }

    private static void awaitBoots(TestVm vm, long times) throws Exception {
        await(
                "boot " + times,
                () -> count(vm.serialText(), "VMRUNNER-GUEST: booted"),
                n -> n >= times);
    }

    @Test
    void guestShutdownStopsKeepsTheRunnerAndStartBootsAgain() throws Exception {
        try (TestVm vm = new TestVm(dir).template("")) {
            Files.writeString(
                    vm.config,
                    vm.configText("e2e", "useTpm: true")
                            .replace("  vm:\n", "  guestShutdownStops: true\n  vm:\n"));
            vm.boot();
            long qemu = vm.childPid("qemu");
            long swtpm = vm.childPid("swtpm");
            vm.guestCommandNoWait("poweroff -f");
            assertStoppedOnPurpose(vm, qemu, swtpm);
            assertTrue(vm.log().contains("was powered off by the guest"), vm.log());

            assertCode(0, vmrunner(vm, "start"), vm);
            awaitBoots(vm, 1); // the console log holds this run's output only
            JsonObject running = awaitState(vm, "running");
            assertNotEquals(qemu, running.getAsJsonObject("qemu").get("pid").getAsLong());
            assertTrue(running.has("swtpm"), "a fresh start has its TPM: " + running);
            assertTrue(Files.exists(vm.runtimeDir.resolve("runner-state.json")));

            vm.sigterm();
            assertEquals(0, vm.awaitExit(Duration.ofSeconds(60)), vm.log());
        }
    }

    @Test
    void vmStateStoppedPressesTheButtonAndRunningBootsAgain() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            Files.writeString(vm.config, vm.configText("e2e", "state: Stopped"));
            assertStoppedOnPurpose(vm, qemu);
            assertTrue(vm.log().contains("The guest powered off as asked"), vm.log());

            Files.writeString(vm.config, vm.configText("e2e", "state: Running"));
            awaitBoots(vm, 1);
            awaitState(vm, "running");

            vm.sigterm();
            assertEquals(0, vm.awaitExit(Duration.ofSeconds(60)), vm.log());
        }
    }

    @Test
    void commandsOnAGuestThatIgnoresTheButton() throws Exception {
        try (TestVm vm =
                new TestVm(dir)
                        .template("vmrunner.powerbutton=ignore vmrunner.agent=off")
                        .config("powerdownTimeout: 600")) {
            for (String command : List.of("start", "stop", "reset")) {
                assertCode(7, vmrunner(vm, command), vm); // no runner
            }
            vm.boot();
            awaitState(vm, "running");
            assertCode(0, vmrunner(vm, "reset"), vm);
            awaitBoots(vm, 2);
            assertCode(0, vmrunner(vm, "start"), vm); // running already

            long qemu = vm.childPid("qemu");
            assertCode(0, vmrunner(vm, "stop"), vm);
            vm.awaitSerial("VMRUNNER-GUEST: power button ignored", ReconfigureIT.WAIT);
            awaitState(vm, "stopping");
            assertCode(14, vmrunner(vm, "reset"), vm); // while stopping
            assertCode(0, vmrunner(vm, "stop"), vm); // stopping already
            assertCode(0, vmrunner(vm, "stop", "--force"), vm);
            assertStoppedOnPurpose(vm, qemu);
            assertCode(14, vmrunner(vm, "reset"), vm); // while stopped
            assertCode(0, vmrunner(vm, "stop"), vm); // stopped already

            assertCode(0, vmrunner(vm, "start"), vm);
            awaitBoots(vm, 1);
            assertCode(0, vmrunner(vm, "stop", "--force"), vm);
            awaitState(vm, "stopped");
            vm.sigterm();
            assertEquals(0, vm.awaitExit(Duration.ofSeconds(30)), vm.log());
        }
    }

    @Test
    void commandsWhileStarting() throws Exception {
        // A helper that never gets ready: the runner is still starting.
        try (TestVm vm = new TestVm(dir).config("useTpm: true")) {
            LifecycleIT.helperNeverReady(vm);
            vm.start();
            awaitState(vm, "starting");
            long helper = vm.childPid("swtpm");
            assertCode(14, vmrunner(vm, "reset"), vm);
            assertCode(0, vmrunner(vm, "start"), vm); // starting already
            StatusIT.Answer stop = vmrunner(vm, "stop");
            assertCode(0, stop, vm);
            assertTrue(stop.out().contains("start is ended"), stop.out());
            awaitState(vm, "stopped");
            assertTrue(TestVm.gone(helper, Duration.ofSeconds(10)), "helper still runs");
            assertTrue(vm.runnerAlive(), vm.log());
            vm.sigterm();
            assertEquals(0, vm.awaitExit(Duration.ofSeconds(30)), vm.log());
        }
    }
}
