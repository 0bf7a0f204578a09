package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.WAIT;
import static dev.vmrunner.e2e.ReconfigureIT.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.vmrunner.kube.FakeApiServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner as a pod's main process, reporting to an API server (a scripted one on the host,
 * through the test overrides of the pod's environment): what {@code kubectl get events} and {@code
 * kubectl get pod -L vmrunner.dev/state} would show through one life of the VM.
 */
class KubeReportIT {

    @TempDir Path dir;

    @Test
    void oneLifeAsTheClusterSeesIt() throws Exception {
        Path account = Files.createDirectories(dir.resolve("account"));
        Files.writeString(account.resolve("token"), "e2e-token\n");
        try (FakeApiServer api = new FakeApiServer();
                TestVm vm =
                        new TestVm(dir)
                                .template("")
                                .config()
                                .environment("VMRUNNER_POD_NAME", "e2e-0")
                                .environment("VMRUNNER_POD_NAMESPACE", "vms")
                                .environment("VMRUNNER_POD_UID", "0000-1111")
                                .environment("VMRUNNER_KUBE_API", api.uri().toString())
                                .environment("VMRUNNER_KUBE_ACCOUNT_DIR", account.toString())) {
            List<JsonObject> events = new ArrayList<>();
            List<String> states = new ArrayList<>();
            vm.boot();
            await(
                    "VmStarted and Booted",
                    () -> reasons(api, events, states),
                    r -> r.contains("VmStarted") && r.contains("Booted"));
            await("the state label", () -> states, s -> s.contains("running"));

            vm.config("currentRam: 4G");
            JsonObject rejected =
                    await(
                                    "ConfigRejected",
                                    () -> {
                                        reasons(api, events, states);
                                        return events;
                                    },
                                    e -> byReason(e, "ConfigRejected") != null)
                            .stream()
                            .filter(e -> "ConfigRejected".equals(e.get("reason").getAsString()))
                            .findFirst()
                            .orElseThrow();
            assertEquals("Warning", rejected.get("type").getAsString());
            assertTrue(
                    rejected.get("message").getAsString().contains("vm.currentRam"),
                    rejected.toString());

            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
            List<String> reasons = reasons(api, events, states);
            assertTrue(
                    reasons.containsAll(List.of("VmStopping", "PoweredOff", "VmStopped")),
                    reasons.toString());
            assertEquals("stopped", states.get(states.size() - 1), states.toString());
            // What "kubectl get events" would list, for the record of the test's output.
            events.forEach(
                    e ->
                            System.out.println(
                                    e.get("type").getAsString()
                                            + " "
                                            + e.get("reason").getAsString()
                                            + " x"
                                            + e.get("count").getAsInt()
                                            + ": "
                                            + e.get("message").getAsString()));
            System.out.println("vmrunner.dev/state: " + states);
            JsonObject started = byReason(events, "VmStarted");
            assertEquals(
                    "e2e-0", started.getAsJsonObject("involvedObject").get("name").getAsString());
        }
    }

    private static JsonObject byReason(List<JsonObject> events, String reason) {
        return events.stream()
                .filter(e -> reason.equals(e.get("reason").getAsString()))
                .findFirst()
                .orElse(null);
    }

    /** Takes what arrived so far; returns the reasons of all Events seen. */
    private static List<String> reasons(
            FakeApiServer api, List<JsonObject> events, List<String> states) {
        FakeApiServer.Request r;
        while ((r = api.requests.poll()) != null) {
            assertEquals("Bearer e2e-token", r.auth());
            if ("PATCH".equals(r.method())) {
                assertEquals("/api/v1/namespaces/vms/pods/e2e-0", r.path());
                states.add(FakeApiServer.stateLabel(r));
            } else {
                events.add(JsonParser.parseString(r.body()).getAsJsonObject());
            }
        }
        return events.stream().map(e -> e.get("reason").getAsString()).toList();
    }
}
