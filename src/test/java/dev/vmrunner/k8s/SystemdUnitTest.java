package dev.vmrunner.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The shipped systemd unit: what the runner relies on is set, and systemd accepts the file. */
class SystemdUnitTest {

    static final Path UNIT = Path.of("deploy/systemd/vmrunner@.service");

    /** Section.Key to value (the last one wins, as in systemd for these keys). */
    static Map<String, String> parse(String text) {
        Map<String, String> keys = new LinkedHashMap<>();
        String section = "";
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("[")) {
                section = line.substring(1, line.indexOf(']'));
                continue;
            }
            int eq = line.indexOf('=');
            assertTrue(eq > 0, "a key=value line: " + line);
            keys.put(section + "." + line.substring(0, eq).strip(), line.substring(eq + 1).strip());
        }
        return keys;
    }

    @Test
    void theUnitSetsWhatTheRunnerNeeds() throws Exception {
        Map<String, String> k = parse(Files.readString(UNIT));
        assertEquals("notify", k.get("Service.Type"));
        assertEquals("all", k.get("Service.NotifyAccess"), "systemd-notify is a child");
        assertEquals("process", k.get("Service.KillMode"), "QEMU outlives a dead runner");
        assertEquals("on-failure", k.get("Service.Restart"));
        assertEquals("/bin/kill -HUP $MAINPID", k.get("Service.ExecReload"));
        assertTrue(k.get("Service.ExecStart").endsWith("-c /etc/opt/vmrunner/%i.yaml"));
        // Above the default vm.powerdownTimeout (900 s) plus the terminate and kill rungs.
        assertTrue(Integer.parseInt(k.get("Service.TimeoutStopSec")) > 900 + 5 + 5);
        assertEquals("multi-user.target", k.get("Install.WantedBy"));
    }

    /** systemd-analyze verify, where installed; it checks syntax, not the ExecStart binary. */
    @Test
    void systemdAcceptsIt() throws Exception {
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        if (!Files.isExecutable(analyze)) {
            return;
        }
        Path copy = Files.createTempDirectory("unit").resolve("vmrunner@test.service");
        Files.writeString(copy, Files.readString(UNIT));
        Process p =
                new ProcessBuilder(analyze.toString(), "verify", "--man=no", copy.toString())
                        .redirectErrorStream(true)
                        .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        // The executable is not installed here; anything else is a problem of the file.
        String problems =
                out.lines()
                        .filter(l -> !l.contains("/opt/vmrunner/bin/vmrunner"))
                        .filter(l -> !l.contains("Failed to prepare filename"))
                        .filter(l -> l.contains("vmrunner@test.service"))
                        .reduce("", (a, b) -> a + b + "\n");
        assertEquals("", problems, out);
    }
}
