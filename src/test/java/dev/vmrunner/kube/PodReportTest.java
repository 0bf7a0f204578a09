package dev.vmrunner.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the runner reports, and what one run looks like to the API server. */
class PodReportTest {

    @TempDir Path dir;
    private final FakeApiServer server = new FakeApiServer();

    PodReportTest() throws IOException {}

    @AfterEach
    void stop() {
        server.close();
    }

    private Map<String, String> env() throws IOException {
        Files.writeString(dir.resolve("token"), "tok");
        Map<String, String> env = new HashMap<>();
        env.put("VMRUNNER_POD_NAME", "web-0");
        env.put("VMRUNNER_POD_NAMESPACE", "vms");
        env.put("VMRUNNER_POD_UID", "1234-abcd");
        env.put("VMRUNNER_KUBE_API", server.uri().toString());
        env.put("VMRUNNER_KUBE_ACCOUNT_DIR", dir.toString());
        return env;
    }

    @Test
    void outsideAPodOrSwitchedOffNothingReports() throws IOException {
        assertNull(PodReport.fromEnvironment(Map.of()));
        Map<String, String> off = env();
        off.put("VMRUNNER_KUBE_REPORT", "off");
        assertNull(PodReport.fromEnvironment(off));
        Map<String, String> noToken = env();
        noToken.put("VMRUNNER_KUBE_ACCOUNT_DIR", dir.resolve("none").toString());
        assertNull(PodReport.fromEnvironment(noToken));
        Map<String, String> badName = env();
        badName.put("VMRUNNER_POD_NAME", "../../x");
        assertNull(PodReport.fromEnvironment(badName));
    }

    @Test
    void thePodsServiceAddressIsTheApiServer() {
        assertEquals(
                URI.create("https://10.96.0.1:443"),
                PodReport.apiServer(
                        Map.of(
                                "KUBERNETES_SERVICE_HOST",
                                "10.96.0.1",
                                "KUBERNETES_SERVICE_PORT",
                                "443")));
        assertEquals(
                URI.create("https://[fd00::1]:6443"),
                PodReport.apiServer(
                        Map.of(
                                "KUBERNETES_SERVICE_HOST",
                                "fd00::1",
                                "KUBERNETES_SERVICE_PORT",
                                "6443")));
        assertNull(
                PodReport.apiServer(
                        Map.of("KUBERNETES_SERVICE_HOST", "h", "KUBERNETES_SERVICE_PORT", "x/y")));
    }

    @Test
    void oneRunAsTheApiServerSeesIt() throws Exception {
        PodReport report = PodReport.fromEnvironment(env());
        assertNotNull(report);
        report.accept(StatusEventsTest.status("starting"));
        report.accept(StatusEventsTest.status("running"));
        report.accept(
                StatusEventsTest.status(
                        "running",
                        StatusEventsTest.booted("Debian GNU/Linux 12"),
                        List.of(),
                        List.of(),
                        null,
                        null));
        report.changeDone("vm.currentCpus", "applied", "applied");
        report.stopRequested("vm.state: Stopped");
        report.accept(StatusEventsTest.status("stopping"));
        report.poweredOff(true);
        report.accept(StatusEventsTest.status("stopped"));
        report.close();
        List<String> reasons = new ArrayList<>();
        List<String> states = new ArrayList<>();
        while (!server.requests.isEmpty()) {
            FakeApiServer.Request r = server.next();
            if (r.method().equals("PATCH")) {
                states.add(FakeApiServer.stateLabel(r));
            } else {
                JsonObject body = JsonParser.parseString(r.body()).getAsJsonObject();
                reasons.add(body.get("reason").getAsString());
            }
        }
        assertEquals(
                List.of(
                        "VmStarted",
                        "Booted",
                        "ChangeApplied",
                        "StopRequested",
                        "VmStopping",
                        "PoweredOff",
                        "VmStopped"),
                reasons);
        assertEquals("stopped", states.get(states.size() - 1));
    }
}
