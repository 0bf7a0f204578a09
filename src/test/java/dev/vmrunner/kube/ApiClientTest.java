package dev.vmrunner.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a scripted API server, the hostile ways included. */
class ApiClientTest {

    /** Long enough for a loaded machine's answer, short for a test. */
    private static final Duration DEADLINE = Duration.ofSeconds(2);

    @TempDir Path dir;
    private final FakeApiServer server = new FakeApiServer();
    private final AtomicLong nanos = new AtomicLong();

    ApiClientTest() throws IOException {}

    @AfterEach
    void stop() {
        server.close();
    }

    private ApiClient client() throws Exception {
        Path token = dir.resolve("token");
        if (!Files.exists(token)) {
            Files.writeString(token, "first-token\n");
        }
        return new ApiClient(server.uri(), token, null, DEADLINE, nanos::get);
    }

    @Test
    void postsWithTheTokenAndPatchesAsMergePatch() throws Exception {
        ApiClient client = client();
        assertTrue(client.post("/api/v1/namespaces/ns/events", "{\"a\":1}").ok());
        FakeApiServer.Request post = server.next();
        assertEquals("POST", post.method());
        assertEquals("/api/v1/namespaces/ns/events", post.path());
        assertEquals("application/json", post.contentType());
        assertEquals("Bearer first-token", post.auth());
        assertEquals("{\"a\":1}", post.body());

        client.mergePatch("/api/v1/namespaces/ns/pods/p", "{}");
        FakeApiServer.Request patch = server.next();
        assertEquals("PATCH", patch.method());
        assertEquals("application/merge-patch+json", patch.contentType());
    }

    @Test
    void aRotatedTokenIsReadAgainAfterAMinuteOrA401() throws Exception {
        ApiClient client = client();
        client.post("/x", "{}");
        assertEquals("Bearer first-token", server.next().auth());
        Files.writeString(dir.resolve("token"), "second-token");
        client.post("/x", "{}");
        assertEquals("Bearer first-token", server.next().auth(), "kept within a minute");
        client.tokenRejected();
        client.post("/x", "{}");
        assertEquals("Bearer second-token", server.next().auth(), "read again after a 401");
        Files.writeString(dir.resolve("token"), "third-token");
        nanos.addAndGet(Duration.ofSeconds(61).toNanos());
        client.post("/x", "{}");
        assertEquals("Bearer third-token", server.next().auth(), "read again after a minute");
    }

    @Test
    void aHugeTokenFileOrAStrangeOneIsRefused() throws Exception {
        Files.write(dir.resolve("token"), new byte[64 * 1024]);
        ApiClient client = client();
        assertTrue(
                assertThrows(IOException.class, () -> client.post("/x", "{}"))
                        .getMessage()
                        .contains("larger than"));
        Files.writeString(dir.resolve("token"), "abc\r\nX-Injected: 1");
        client.tokenRejected();
        assertTrue(
                assertThrows(IOException.class, () -> client.post("/x", "{}"))
                        .getMessage()
                        .contains("not allowed"));
    }

    @Test
    void anErrorIsAReplyWithItsStatusAndTheStartOfItsBody() throws Exception {
        server.mode = FakeApiServer.Mode.ERROR_500;
        ApiClient.Reply reply = client().post("/x", "{}");
        assertEquals(500, reply.status());
        assertTrue(reply.body().contains("etcd"));
    }

    @Test
    void aHugeReplyIsReadOnlyToItsBound() throws Exception {
        server.mode = FakeApiServer.Mode.HUGE;
        ApiClient.Reply reply = client().post("/x", "{}");
        assertEquals(200, reply.status());
        assertEquals(ApiClient.MAX_BODY, reply.body().length());
    }

    @Test
    void aServerThatNeverAnswersCostsOneDeadline() throws Exception {
        assertFalse(failsWithinTheDeadline(FakeApiServer.Mode.SILENT).isEmpty());
    }

    @Test
    void aBodyThatDripsForEverCostsOneDeadline() throws Exception {
        // 1 KiB at a byte per 50 ms would take 51 s; the deadline holds the whole exchange.
        assertTrue(failsWithinTheDeadline(FakeApiServer.Mode.DRIP).contains("within"));
    }

    /** A call to a server answering so fails soon after the deadline; returns its message. */
    private String failsWithinTheDeadline(FakeApiServer.Mode mode) throws Exception {
        server.mode = mode;
        ApiClient client = client();
        long start = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> client.post("/x", "{}"));
        long took = System.nanoTime() - start;
        assertTrue(took < Duration.ofSeconds(10).toNanos(), "took " + took / 1_000_000 + " ms");
        return String.valueOf(e.getMessage());
    }

    @Test
    void nobodyListeningIsAFailureNotAHang() throws Exception {
        ApiClient client = client();
        server.close();
        assertThrows(IOException.class, () -> client.post("/x", "{}"));
    }
}
