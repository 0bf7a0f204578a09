package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.WAIT;
import static dev.vmrunner.e2e.ReconfigureIT.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vmrunner console} with pipes, and the guest's console in the runner's log. */
class ConsoleIT {

    @TempDir Path dir;

    private record Attached(int code, String out, String err) {}

    private static Process console(TestVm vm) throws Exception {
        return new ProcessBuilder(TestVm.LAUNCHER.toString(), "console", "-c", vm.config.toString())
                .start();
    }

    /** Types {@code input} into the console through a pipe and collects what comes back. */
    private static Attached type(TestVm vm, String input) throws Exception {
        Process p = console(vm);
        try (OutputStream in = p.getOutputStream()) {
            in.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(
                p.waitFor(Waits.seconds(60).toMillis(), TimeUnit.MILLISECONDS),
                "console did not end");
        return new Attached(p.exitValue(), out, err);
    }

    @Test
    void aCommandTypedInIsAnsweredTwiceAndASecondAttachIsRefused() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.boot();
            for (int i = 1; i <= 2; i++) {
                Attached a = type(vm, "echo console-$((40+" + i + "))\n");
                assertEquals(0, a.code(), a.err());
                assertTrue(a.out().contains("console-" + (40 + i)), "answer " + i + ": " + a.out());
            }

            Process first = console(vm);
            Path lock = vm.runtimeDir.resolve("console.lock");
            await(
                    "the first console holds the lock",
                    () ->
                            Files.exists(lock)
                                    && Files.readString(lock)
                                            .strip()
                                            .equals(Long.toString(first.pid())),
                    b -> b);
            Attached second = type(vm, "");
            assertEquals(9, second.code(), second.err());
            assertTrue(
                    second.err()
                            .contains(
                                    "is in use by another 'vmrunner console' (pid "
                                            + first.pid()
                                            + ")"),
                    second.err());
            first.getOutputStream().close();
            assertTrue(first.waitFor(Waits.seconds(60).toMillis(), TimeUnit.MILLISECONDS));
            assertEquals(0, first.exitValue());

            // What the guest prints is in the runner's log, prefixed, without attaching.
            vm.awaitLog("console: VMRUNNER-GUEST: booted", WAIT);

            // A flood: the log keeps a bounded share and says what it dropped.
            vm.guestCommand(
                    "i=0; while [ $i -lt 2000 ]; do echo flood-$i >/dev/ttyS0; i=$((i+1)); done",
                    WAIT);
            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
            String log = vm.log();
            long flood = log.lines().filter(l -> l.contains("console: flood-")).count();
            System.out.println("ConsoleIT: flood of 2000 lines -> " + flood + " logged");
            assertTrue(log.contains("lines suppressed"), "no suppression note");
            assertTrue(flood < 2000, flood + " lines logged");
        }
    }

    @Test
    void noRunnerMeansNoConsole() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            Attached a = type(vm, "");
            assertEquals(7, a.code());
            assertTrue(a.err().contains("VM e2e has no console at "), a.err());
        }
    }
}
