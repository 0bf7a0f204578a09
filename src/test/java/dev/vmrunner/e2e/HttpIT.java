package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --http}: the endpoints a real VM's runner answers while it starts, runs and stops, and its
 * metrics read by Prometheus' own Python parser.
 */
class HttpIT {

    @TempDir Path dir;

    record Reply(int code, String body) {}

    static Reply get(int port, String path, String method) throws IOException {
        HttpURLConnection c =
                (HttpURLConnection) new URL("http://127.0.0.1:" + port + path).openConnection();
        c.setRequestMethod(method);
        c.setConnectTimeout(5000);
        c.setReadTimeout(10000);
        int code = c.getResponseCode();
        InputStream in = code < 400 ? c.getInputStream() : c.getErrorStream();
        String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        c.disconnect();
        return new Reply(code, body);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * The standard template with QEMU started through a script that waits before it runs QEMU, so
     * the runner is observably "starting" once the endpoints are up (they start with QEMU's
     * process).
     */
    static void slowQemu(TestVm vm, Path dir) throws IOException {
        Path wrapper = dir.resolve("slow-qemu");
        Files.writeString(wrapper, "#!/bin/sh\nsleep 4\nexec /usr/bin/qemu-system-x86_64 \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
        String standard =
                Files.readString(
                                Path.of("src/main/resources/templates/Standard-VM-latest.ftl.yaml"))
                        .replace("\"/usr/bin/qemu-system-x86_64\",", "\"" + wrapper + "\",");
        Files.writeString(vm.templates.resolve("Standard-VM-latest.ftl.yaml"), standard);
    }

    /** PSS of a process in kB, from /proc/PID/smaps_rollup. */
    static long pssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
            if (line.startsWith("Pss:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    @Test
    void endpointsFollowTheVm() throws Exception {
        int port = freePort();
        try (TestVm vm =
                new TestVm(dir)
                        .template("vmrunner.powerbutton=ignore vmrunner.agent=off")
                        .config("powerdownTimeout: 6")) {
            slowQemu(vm, dir);
            Process runner = vm.start("--http", "127.0.0.1:" + port);

            // Starting: the first answer, as soon as the port opens, is 503.
            List<String> readiness = new ArrayList<>();
            long deadline = System.nanoTime() + Waits.scaled(TestVm.BOOT).toNanos();
            while (!readiness.contains("200 running") && System.nanoTime() < deadline) {
                try {
                    Reply r = get(port, "/readyz", "GET");
                    String seen = r.code() + " " + r.body().strip();
                    if (readiness.isEmpty() || !readiness.get(readiness.size() - 1).equals(seen)) {
                        readiness.add(seen);
                    }
                } catch (ConnectException e) {
                    Thread.sleep(20);
                }
            }
            assertEquals(List.of("503 starting", "200 running"), readiness, vm.log());
            vm.awaitSerial("VMRUNNER-GUEST: booted", TestVm.BOOT);

            assertEquals(new Reply(200, "ok\n"), get(port, "/healthz", "GET"));
            JsonObject s =
                    JsonParser.parseString(get(port, "/status", "GET").body()).getAsJsonObject();
            assertEquals("e2e", s.get("name").getAsString());
            assertEquals("running", s.get("state").getAsString());
            assertEquals(vm.childPid("qemu"), s.getAsJsonObject("qemu").get("pid").getAsLong());
            assertEquals(256L << 20, s.getAsJsonObject("ram").get("maximum").getAsLong());

            String metrics = get(port, "/metrics", "GET").body();
            String parsed = prometheusParse(metrics);
            assertTrue(parsed.contains("vmrunner_vm_state gauge state=running 1.0"), parsed);
            assertTrue(parsed.contains("vmrunner_vm_state gauge state=starting 0.0"), parsed);
            assertTrue(parsed.contains("vmrunner_ram_maximum_bytes gauge  268435456.0"), parsed);
            assertTrue(parsed.contains("vmrunner_vcpus_present gauge  1.0"), parsed);
            assertTrue(
                    parsed.contains("vmrunner_qmp_command_duration_seconds summary command=cont"),
                    parsed);
            assertTrue(
                    parsed.contains("vmrunner_qmp_command_errors counter command=cont 0.0"),
                    parsed);
            assertTrue(parsed.contains("vmrunner_powerdown_in_progress gauge  0.0"), parsed);

            assertEquals(405, get(port, "/status", "POST").code());
            assertEquals(405, get(port, "/metrics", "DELETE").code());
            assertEquals(404, get(port, "/", "GET").code());
            assertEquals(404, get(port, "/status/x", "GET").code());

            System.out.println("HttpIT: runner PSS with --http " + pssKb(runner.pid()) + " kB");
            System.out.println("HttpIT: GET /status " + latencies(port, "/status"));
            System.out.println("HttpIT: GET /metrics " + latencies(port, "/metrics"));

            // Stopping: the guest ignores the power button, so the stop lasts the timeout.
            vm.sigterm();
            Reply stopping = awaitReply(port, "/readyz", r -> r.body().startsWith("stopping"));
            assertEquals(503, stopping.code());
            assertTrue(
                    prometheusParse(get(port, "/metrics", "GET").body())
                            .contains("vmrunner_powerdown_in_progress gauge  1.0"));
            assertEquals(4, vm.awaitExit(Duration.ofSeconds(60)));
        }
    }

    interface Check {
        boolean ok(Reply r);
    }

    static Reply awaitReply(int port, String path, Check check) throws Exception {
        long deadline = System.nanoTime() + Waits.seconds(30).toNanos();
        Reply r = null;
        while (System.nanoTime() < deadline) {
            r = get(port, path, "GET");
            if (check.ok(r)) {
                return r;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no matching reply from " + path + "; last: " + r);
    }

    static String latencies(int port, String path) throws IOException {
        List<Long> micros = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            long t = System.nanoTime();
            get(port, path, "GET");
            micros.add((System.nanoTime() - t) / 1000);
        }
        micros.sort(null);
        return "median " + micros.get(10) / 1000.0 + " ms, max " + micros.get(19) / 1000.0 + " ms";
    }

    /** One line per sample, "family type labels value", as prometheus_client parses the text. */
    static String prometheusParse(String text) throws Exception {
        String script =
                String.join(
                        "\n",
                        "import sys",
                        "from prometheus_client.parser import text_string_to_metric_families",
                        "for f in text_string_to_metric_families(sys.stdin.read()):",
                        "    assert f.documentation, f.name",
                        "    for s in f.samples:",
                        "        labels = ','.join(k + '=' + v for k, v in"
                                + " sorted(s.labels.items()))",
                        "        print(f.name, f.type, labels, float(s.value))");
        Process p =
                new ProcessBuilder("/usr/bin/python3", "-c", script) // Debian's, with the package
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start();
        p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(Waits.seconds(30).toMillis(), TimeUnit.MILLISECONDS));
        assertEquals(0, p.exitValue(), "prometheus_client failed to parse:\n" + text);
        return out;
    }
}
