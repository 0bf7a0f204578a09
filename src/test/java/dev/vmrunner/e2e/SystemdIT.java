package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.WAIT;
import static dev.vmrunner.e2e.ReconfigureIT.await;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
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

    /**
     * One location per VM whoever asks: a runner started as the unit starts it (root, systemd's
     * bare environment with the unit's StateDirectory/RuntimeDirectory variables, no HOME) for a
     * configuration without directories is found by {@code status} from a root login shell
     * (XDG_RUNTIME_DIR=/run/user/0) and from sudo (the caller's HOME), in /run/vmrunner/NAME.
     * (systemd itself does not run in the test environment; its environment is reproduced.)
     */
    @Test
    void statusFromAShellFindsTheUnitsRunner() throws Exception {
        Assumptions.assumeTrue(
                "root".equals(System.getProperty("user.name")), "root's directories need root");
        String name = "e2e-unit-" + ProcessHandle.current().pid();
        Path runtime = Path.of("/run/vmrunner", name);
        Path data = Path.of("/var/lib/vmrunner", name);
        try (TestVm vm = new TestVm(dir).template("vmrunner.agent=off")) {
            String text =
                    vm.configText(name)
                            .replace("  dataDir: " + vm.dataDir + "\n", "")
                            .replace("  runtimeDir: " + vm.runtimeDir + "\n", "");
            Files.writeString(vm.config, text);
            vm.under(
                    "env",
                    "-i",
                    "PATH=" + System.getenv("PATH"),
                    "LANG=C.UTF-8",
                    "INVOCATION_ID=0123456789abcdef0123456789abcdef",
                    "STATE_DIRECTORY=/var/lib/vmrunner",
                    "RUNTIME_DIRECTORY=/run/vmrunner");
            try {
                vm.boot();
                assertTrue(Files.exists(runtime.resolve("status.sock")), "not in " + runtime);
                assertTrue(Files.isDirectory(data), "not in " + data);
                String[][] shells = {
                    {"HOME=/root", "USER=root", "LOGNAME=root", "XDG_RUNTIME_DIR=/run/user/0"},
                    {"HOME=/home/someone", "USER=root", "SUDO_USER=someone", "XDG_DATA_HOME=/x"}
                };
                for (String[] shell : shells) {
                    List<String> command =
                            new ArrayList<>(List.of("env", "-i", "PATH=" + System.getenv("PATH")));
                    command.addAll(List.of(shell));
                    command.addAll(
                            List.of(
                                    TestVm.LAUNCHER.toString(),
                                    "status",
                                    "-o",
                                    "json",
                                    "-c",
                                    vm.config.toString()));
                    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
                    String out = new String(p.getInputStream().readAllBytes(), UTF_8);
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                    assertEquals(0, p.exitValue(), List.of(shell) + ": " + out);
                    assertTrue(out.contains("\"name\":\"" + name + "\""), out);
                }
                vm.sigterm();
                assertEquals(0, vm.awaitExit(WAIT), vm.log());
                assertTrue(!Files.exists(runtime), "runtime directory left behind");
            } finally {
                for (String child : List.of("qemu", "swtpm")) {
                    try {
                        long pid =
                                Long.parseLong(
                                        Files.readString(runtime.resolve(child + ".pid")).strip());
                        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                    } catch (java.io.IOException | NumberFormatException e) {
                        // not running
                    }
                }
                new ProcessBuilder("rm", "-rf", data.toString()).start().waitFor();
            }
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
