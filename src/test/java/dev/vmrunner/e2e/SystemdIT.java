package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.WAIT;
import static dev.vmrunner.e2e.ReconfigureIT.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner as a {@code Type=notify} service: the messages systemd would get arrive, in order, on
 * a notification socket the test owns.
 */
class SystemdIT {

    @TempDir Path dir;

    @Test
    void readyStatusAndStoppingReachTheNotifySocket() throws Exception {
        Path socket = dir.resolve("notify.sock");
        Path received = dir.resolve("notify.txt");
        Process receiver =
                new ProcessBuilder(
                                "/usr/bin/python3",
                                Path.of("src/test/resources/sd-notify-receiver.py")
                                        .toAbsolutePath()
                                        .toString(),
                                socket.toString(),
                                received.toString())
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve("receiver.log").toFile())
                        .start();
        try (TestVm vm = new TestVm(dir).template("").config()) {
            await("the notify socket", () -> Files.exists(socket), b -> b);
            vm.environment("NOTIFY_SOCKET", socket.toString());
            vm.boot();
            await("READY=1", () -> messages(received).contains("READY=1"), b -> b);
            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
            List<String> got = messages(received);
            System.out.println("SystemdIT: " + got);
            int starting = got.indexOf("STATUS=Starting VM e2e");
            int ready = got.indexOf("READY=1");
            int stopping = got.indexOf("STOPPING=1");
            int stopped = got.indexOf("STATUS=VM e2e stopped");
            assertTrue(starting >= 0 && starting < ready, got.toString());
            assertTrue(
                    got.get(ready + 1).startsWith("STATUS=VM e2e running (QEMU pid "),
                    got.toString());
            assertTrue(ready < stopping && stopping < stopped, got.toString());
        } finally {
            receiver.destroy();
            receiver.waitFor(Waits.seconds(10).toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The assignments received, in order (barrier messages left out). */
    private static List<String> messages(Path file) throws Exception {
        List<String> lines = new ArrayList<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file)) {
                if (!line.equals("---") && !line.equals("BARRIER=1") && !line.isEmpty()) {
                    lines.add(line);
                }
            }
        }
        return lines;
    }
}
