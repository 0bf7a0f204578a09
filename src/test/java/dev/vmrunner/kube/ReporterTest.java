package dev.vmrunner.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reporter's bounds, on a fake clock, sending by hand ({@link Reporter#sendDue}). */
class ReporterTest {

    private static final Instant T0 = Instant.parse("2026-12-08T01:00:00Z");
    private static final PodRef POD = new PodRef("vms", "web-0", "0123-abcd", "node1");

    @TempDir Path dir;
    private final FakeApiServer server = new FakeApiServer();
    private final AtomicLong nanos = new AtomicLong();
    private final Reporter reporter;

    ReporterTest() throws IOException {
        reporter =
                new Reporter(
                        POD,
                        () -> {
                            Path token = dir.resolve("token");
                            Files.writeString(token, "t");
                            return new ApiClient(
                                    server.uri(), token, null, Duration.ofSeconds(2), nanos::get);
                        },
                        Duration.ofSeconds(10),
                        nanos::get,
                        () -> T0.plusNanos(nanos.get()));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    private JsonObject nextEvent() throws InterruptedException {
        FakeApiServer.Request r = server.next();
        assertEquals("/api/v1/namespaces/vms/events", r.path());
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    @Test
    void anEventNamesThePodAndItsReason() throws Exception {
        reporter.release();
        reporter.event(Reason.CONFIG_REJECTED, "line 3: vm.currentRam: not a size");
        reporter.sendDue();
        JsonObject e = nextEvent();
        assertEquals("ConfigRejected", e.get("reason").getAsString());
        assertEquals("Warning", e.get("type").getAsString());
        assertEquals("line 3: vm.currentRam: not a size", e.get("message").getAsString());
        JsonObject involved = e.getAsJsonObject("involvedObject");
        assertEquals("Pod", involved.get("kind").getAsString());
        assertEquals("web-0", involved.get("name").getAsString());
        assertEquals("vms", involved.get("namespace").getAsString());
        assertEquals("0123-abcd", involved.get("uid").getAsString());
        assertEquals("web-0.", e.getAsJsonObject("metadata").get("generateName").getAsString());
        assertEquals("node1", e.getAsJsonObject("source").get("host").getAsString());
        assertEquals(1, e.get("count").getAsInt());
        assertEquals("2026-12-08T01:00:00Z", e.get("firstTimestamp").getAsString());
    }

    @Test
    void nothingIsSentBeforeTheVmRuns() throws Exception {
        reporter.event(Reason.STARTED, "x");
        assertNull(server.requests.poll(100, TimeUnit.MILLISECONDS));
        reporter.release();
        reporter.sendDue();
        assertEquals("VmStarted", nextEvent().get("reason").getAsString());
    }

    @Test
    void oneReasonIsSentOncePerIntervalAndTheRestAsOneWithTheirCount() throws Exception {
        reporter.release();
        for (int i = 0; i < 100; i++) {
            reporter.event(Reason.CHANGE_APPLIED, "vm.currentRam: applied " + i);
            advance(Duration.ofMillis(50));
        }
        reporter.sendDue();
        assertEquals("vm.currentRam: applied 0", nextEvent().get("message").getAsString());
        assertNull(server.requests.poll(100, TimeUnit.MILLISECONDS), "the rest held back");
        advance(Duration.ofSeconds(6));
        reporter.sendDue();
        JsonObject series = nextEvent();
        assertEquals(99, series.get("count").getAsInt());
        assertEquals("vm.currentRam: applied 99", series.get("message").getAsString());
        assertEquals("2026-12-08T01:00:00Z", series.get("firstTimestamp").getAsString());
        assertEquals("2026-12-08T01:00:04Z", series.get("lastTimestamp").getAsString());
        assertNull(server.requests.poll(100, TimeUnit.MILLISECONDS));
    }

    @Test
    void theQueueKeepsTheNewestAndCountsWhatItDropped() throws Exception {
        // Every reason once per interval, for long, before anything can be sent.
        for (int round = 0; round < 5; round++) {
            for (Reason reason : Reason.values()) {
                reporter.event(reason, "round " + round);
            }
            advance(Duration.ofSeconds(11));
        }
        int queued = 5 * Reason.values().length;
        assertEquals(queued - Reporter.QUEUE, reporter.dropped());
        reporter.release();
        reporter.sendDue();
        assertEquals(Reporter.QUEUE, server.requests.size());
        JsonObject last = null;
        while (!server.requests.isEmpty()) {
            last = nextEvent();
        }
        assertEquals("round 4", last.get("message").getAsString());
    }

    @Test
    void thePodIsPatchedOnlyWhenItsFactsChange() throws Exception {
        reporter.release();
        reporter.podFacts(
                Map.of("vmrunner.dev/state", "running"), Map.of("vmrunner.dev/cpus", "2"));
        reporter.sendDue();
        FakeApiServer.Request patch = server.next();
        assertEquals("PATCH", patch.method());
        assertEquals("/api/v1/namespaces/vms/pods/web-0", patch.path());
        assertEquals(
                "{\"metadata\":{\"labels\":{\"vmrunner.dev/state\":\"running\"},"
                        + "\"annotations\":{\"vmrunner.dev/cpus\":\"2\"}}}",
                patch.body());
        reporter.podFacts(
                Map.of("vmrunner.dev/state", "running"), Map.of("vmrunner.dev/cpus", "2"));
        reporter.sendDue();
        assertNull(server.requests.poll(100, TimeUnit.MILLISECONDS));
    }

    @Test
    void afterAFailureItWaitsAndTriesThePatchAgainButDropsTheEvent() throws Exception {
        reporter.release();
        server.mode = FakeApiServer.Mode.ERROR_500;
        reporter.podFacts(Map.of("vmrunner.dev/state", "running"), Map.of());
        reporter.event(Reason.STARTED, "x");
        reporter.sendDue();
        assertEquals("PATCH", server.next().method());
        assertEquals("/api/v1/namespaces/vms/events", server.next().path(), "not held back");
        assertEquals(1, reporter.dropped());
        server.mode = FakeApiServer.Mode.OK;
        reporter.sendDue();
        assertEquals("PATCH", server.next().method(), "the pod's facts are still wanted");
        assertNull(server.requests.poll(100, TimeUnit.MILLISECONDS));

        server.mode = FakeApiServer.Mode.ERROR_500;
        reporter.event(Reason.BOOTED, "y");
        reporter.sendDue();
        nextEvent();
        server.mode = FakeApiServer.Mode.OK;
        reporter.sendDue();
        assertNull(server.requests.poll(100, TimeUnit.MILLISECONDS), "a refused Event is gone");
        assertEquals(2, reporter.dropped());
    }

    @Test
    void aSilentServerNeverHoldsTheCallerOfEvent() throws Exception {
        server.mode = FakeApiServer.Mode.SILENT;
        Thread sender = new Thread(reporter::run, "kube-report-test");
        sender.setDaemon(true);
        sender.start();
        reporter.release();
        long start = System.nanoTime();
        for (int i = 0; i < 10_000; i++) {
            reporter.event(i % 2 == 0 ? Reason.STARTED : Reason.ERROR, "event " + i);
            reporter.podFacts(Map.of("vmrunner.dev/state", "s" + i), Map.of());
        }
        long took = System.nanoTime() - start;
        assertTrue(took < TimeUnit.SECONDS.toNanos(2), "took " + took / 1_000_000 + " ms");
        reporter.stop();
        sender.interrupt();
        sender.join(5000);
        assertTrue(!sender.isAlive());
    }
}
