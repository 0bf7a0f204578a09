package dev.vmrunner.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.vmrunner.qmp.QmpException.Kind;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class QmpConnectionTest {
    /** Generous: the machine running the tests may be loaded. */
    private static final Duration LONG = Duration.ofSeconds(20);

    @TempDir Path dir;

    private final RecordingListener listener = new RecordingListener();
    private final List<AutoCloseable> cleanup = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : cleanup) {
            c.close();
        }
    }

    private Path sock() {
        return dir.resolve("qmp.sock");
    }

    private FakeQmpServer server() throws IOException {
        FakeQmpServer server = FakeQmpServer.start(sock());
        cleanup.add(server);
        return server;
    }

    private QmpConnection connect() throws Exception {
        QmpConnection c = QmpConnection.connect(sock(), LONG, listener);
        cleanup.add(0, c);
        return c;
    }

    private static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }

    private static QmpException failure(CompletableFuture<?> future) throws Exception {
        ExecutionException e =
                assertThrows(ExecutionException.class, () -> future.get(30, TimeUnit.SECONDS));
        assertTrue(
                e.getCause() instanceof QmpException, () -> "not a QmpException: " + e.getCause());
        return (QmpException) e.getCause();
    }

    @Test
    void negotiatesAndReturnsTheReplyValue() throws Exception {
        FakeQmpServer server =
                server().reply("query-status", json("{\"status\":\"running\",\"running\":true}"));
        QmpConnection c = connect();

        assertEquals(
                7,
                c.greeting()
                        .getAsJsonObject("version")
                        .getAsJsonObject("qemu")
                        .get("major")
                        .getAsInt());
        assertEquals("qmp_capabilities", server.nextReceived().get("execute").getAsString());
        JsonElement status = c.execute("query-status", null, LONG).get(30, TimeUnit.SECONDS);
        assertEquals("running", status.getAsJsonObject().get("status").getAsString());
        assertTrue(c.isOpen());
    }

    @Test
    void sendsArgumentsAndAUniqueIdPerCommand() throws Exception {
        FakeQmpServer server = server().reply("balloon", new JsonObject());
        QmpConnection c = connect();
        server.nextReceived(); // qmp_capabilities

        c.execute("balloon", json("{\"value\":1073741824}"), LONG).get(30, TimeUnit.SECONDS);
        c.execute("balloon", json("{\"value\":2}"), LONG).get(30, TimeUnit.SECONDS);

        JsonObject first = server.nextReceived();
        JsonObject second = server.nextReceived();
        assertEquals(1073741824L, first.getAsJsonObject("arguments").get("value").getAsLong());
        assertFalse(first.get("id").equals(second.get("id")));
    }

    @Test
    void noReplyTimesOutAndTheConnectionStaysUsable() throws Exception {
        List<JsonObject> unanswered = new CopyOnWriteArrayList<>();
        FakeQmpServer server = server().on("hang", (request, peer) -> unanswered.add(request));
        server.on(
                "ping",
                (request, peer) -> {
                    for (JsonObject late : unanswered) {
                        peer.reply(
                                late,
                                new JsonPrimitive("late")); // must be dropped, not given to ping
                    }
                    peer.reply(request, new JsonPrimitive("pong"));
                });
        QmpConnection c = connect();

        long start = System.nanoTime();
        QmpException e = failure(c.execute("hang", null, Duration.ofMillis(200)));
        assertEquals(Kind.TIMEOUT, e.kind());
        assertTrue(
                e.getMessage().startsWith("Failed to run QMP command hang: no reply within 200 ms"),
                e.getMessage());
        assertTrue(
                System.nanoTime() - start < TimeUnit.SECONDS.toNanos(15),
                "timeout took far too long");

        assertEquals("pong", c.execute("ping", null, LONG).get(30, TimeUnit.SECONDS).getAsString());
        assertTrue(c.isOpen());
        assertEquals(0, listener.disconnectCount());
    }

    @Test
    void disconnectMidCommandFailsEveryPendingCallAndNotifiesOnce() throws Exception {
        FakeQmpServer server = server().on("hang", (request, peer) -> {});
        server.on("die", (request, peer) -> peer.disconnect());
        QmpConnection c = connect();

        CompletableFuture<JsonElement> hang1 = c.execute("hang", null, LONG);
        CompletableFuture<JsonElement> hang2 = c.execute("hang", null, LONG);
        CompletableFuture<JsonElement> die = c.execute("die", null, LONG);

        for (CompletableFuture<JsonElement> f : List.of(hang1, hang2, die)) {
            QmpException e = failure(f);
            assertEquals(Kind.DISCONNECTED, e.kind());
            assertTrue(e.getMessage().contains(sock().toString()), e.getMessage());
        }
        assertNotNull(listener.awaitDisconnect(), "QEMU hung up, so the cause must not be null");
        assertFalse(c.isOpen());
        assertEquals(Kind.DISCONNECTED, failure(c.execute("hang", null, LONG)).kind());

        c.close(); // closing afterwards must not report a second disconnect
        // Once the thread that reported has ended, a wrong second call would have been made.
        listener.awaitReporterEnded();
        assertEquals(1, listener.disconnectCount());
    }

    @Test
    void closeFailsPendingCallsAndReportsANullCause() throws Exception {
        server().on("hang", (request, peer) -> {});
        QmpConnection c = connect();
        CompletableFuture<JsonElement> hang = c.execute("hang", null, LONG);

        c.close();
        c.close();

        assertEquals(Kind.DISCONNECTED, failure(hang).kind());
        assertFalse(c.isOpen());
        assertNull(listener.awaitDisconnect());
        assertEquals(1, listener.disconnectCount());
    }

    @Test
    void eventsArriveInOrderAndRepliesAreMatchedAroundThem() throws Exception {
        FakeQmpServer server = server();
        server.on(
                "first",
                (request, peer) -> {
                    peer.event("E1", json("{\"n\":1}"));
                    peer.reply(request, new JsonPrimitive(1));
                    peer.event("E2", null);
                });
        server.on(
                "second",
                (request, peer) -> {
                    peer.event("E3", null);
                    peer.event("E4", json("{\"n\":4}"));
                    peer.reply(request, new JsonPrimitive(2));
                    peer.event("E5", null);
                });
        QmpConnection c = connect();

        // A reply completes on the reader thread after every event that preceded it was delivered.
        CompletableFuture<List<String>> seenAtFirst =
                c.execute("first", null, LONG).thenApply(v -> listener.names());
        assertEquals(List.of("E1"), seenAtFirst.get(30, TimeUnit.SECONDS).subList(0, 1));
        assertEquals(2, c.execute("second", null, LONG).get(30, TimeUnit.SECONDS).getAsInt());

        List<QmpEvent> events = listener.awaitEvents(5);
        assertEquals(
                List.of("E1", "E2", "E3", "E4", "E5"),
                events.stream().map(QmpEvent::name).toList());
        assertEquals(4, events.get(3).data().get("n").getAsInt());
        assertEquals(0, events.get(1).data().size(), "missing data must read as an empty object");
        assertEquals(
                Instant.ofEpochSecond(1_700_000_000L, 250_000_000L), events.get(0).timestamp());
    }

    @Test
    void outOfOrderRepliesToConcurrentCommandsAreMatchedById() throws Exception {
        BlockingQueue<JsonObject> held = new LinkedBlockingQueue<>();
        server().on(
                        "slow",
                        (request, peer) -> {
                            held.add(request);
                            if (held.size() == 2) { // answer the two commands in the opposite order
                                JsonObject a = held.poll();
                                JsonObject b = held.poll();
                                peer.reply(b, b.getAsJsonObject("arguments").get("tag"));
                                peer.reply(a, a.getAsJsonObject("arguments").get("tag"));
                            }
                        });
        QmpConnection c = connect();

        ExecutorService callers = Executors.newFixedThreadPool(2);
        try {
            @SuppressWarnings("FutureReturnValueIgnored") // both are awaited below
            Future<CompletableFuture<JsonElement>> a =
                    callers.submit(() -> c.execute("slow", json("{\"tag\":\"a\"}"), LONG));
            @SuppressWarnings("FutureReturnValueIgnored") // awaited below
            Future<CompletableFuture<JsonElement>> b =
                    callers.submit(() -> c.execute("slow", json("{\"tag\":\"b\"}"), LONG));
            assertEquals("a", a.get().get(30, TimeUnit.SECONDS).getAsString());
            assertEquals("b", b.get().get(30, TimeUnit.SECONDS).getAsString());
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void manyThreadsShareOneConnection() throws Exception {
        server().on("echo", (request, peer) -> peer.reply(request, request.get("arguments")));
        QmpConnection c = connect();
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<Void>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                done.add(
                        callers.submit(
                                () -> {
                                    for (int i = 0; i < 50; i++) {
                                        JsonObject args =
                                                json("{\"t\":" + thread + ",\"i\":" + i + "}");
                                        assertEquals(
                                                args,
                                                c.execute("echo", args, LONG)
                                                        .get(30, TimeUnit.SECONDS));
                                    }
                                    return null;
                                }));
            }
            for (Future<Void> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void errorReplyKeepsClassAndDesc() throws Exception {
        server().on(
                        "balloon",
                        (request, peer) ->
                                peer.error(
                                        request,
                                        "DeviceNotActive",
                                        "No balloon device has been activated"));
        QmpConnection c = connect();

        QmpException e = failure(c.execute("balloon", json("{\"value\":1}"), LONG));
        assertEquals(Kind.ERROR_REPLY, e.kind());
        assertEquals("DeviceNotActive", e.errorClass());
        assertEquals(
                "Failed to run QMP command balloon: DeviceNotActive: No balloon device has been"
                        + " activated",
                e.getMessage());
        assertTrue(c.isOpen());
    }

    @Test
    void garbageAndUnknownMessagesAreSkipped() throws Exception {
        server().on(
                        "x",
                        (request, peer) -> {
                            peer.send("this is not json {");
                            peer.send("[1, 2, 3]");
                            peer.send("");
                            peer.send("{\"something-new\": true}");
                            peer.send("{\"return\": {}, \"id\": \"not-ours\"}");
                            peer.send(
                                    "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON"
                                            + " parse error\"}}");
                            peer.event("AFTER_GARBAGE", null);
                            peer.send(
                                    "{\"return\": 42, \"id\": "
                                            + request.get("id")
                                            + ", \"future-field\": [1]}");
                        });
        QmpConnection c = connect();

        assertEquals(42, c.execute("x", null, LONG).get(30, TimeUnit.SECONDS).getAsInt());
        assertEquals("AFTER_GARBAGE", listener.awaitEvents(1).get(0).name());
        assertTrue(c.isOpen());
    }

    @Test
    void unknownCommandIsAnErrorReply() throws Exception {
        server();
        QmpConnection c = connect();
        QmpException e = failure(c.execute("no-such-command", null, LONG));
        assertEquals("CommandNotFound", e.errorClass());
    }

    @Test
    void aThrowingListenerDoesNotStopTheReader() throws Exception {
        server().on(
                        "x",
                        (request, peer) -> {
                            peer.event("BOOM", null);
                            peer.reply(request, new JsonPrimitive(1));
                        });
        QmpConnection.Listener throwing =
                new QmpConnection.Listener() {
                    @Override
                    public void onEvent(QmpEvent event) {
                        throw new IllegalStateException("listener bug");
                    }

                    @Override
                    public void onDisconnect(Throwable cause) {}
                };
        try (QmpConnection c = QmpConnection.connect(sock(), LONG, throwing)) {
            assertEquals(1, c.execute("x", null, LONG).get(30, TimeUnit.SECONDS).getAsInt());
        }
    }

    @Test
    void anInterruptedCallerDoesNotCloseTheConnection() throws Exception {
        server().reply("x", new JsonPrimitive(7));
        QmpConnection c = connect();

        Thread.currentThread().interrupt();
        CompletableFuture<JsonElement> reply;
        try {
            reply = c.execute("x", null, LONG);
        } finally {
            assertTrue(Thread.interrupted(), "the caller's interrupt status must be kept");
        }
        assertEquals(7, reply.get(30, TimeUnit.SECONDS).getAsInt());
        assertTrue(c.isOpen());
    }

    @Test
    void connectRetriesUntilTheSocketAppears() throws Exception {
        Thread late =
                new Thread(
                        () -> {
                            try {
                                Thread.sleep(300);
                                cleanup.add(FakeQmpServer.start(sock()));
                            } catch (InterruptedException | IOException e) {
                                throw new AssertionError(e);
                            }
                        });
        late.start();
        try {
            QmpConnection c = connect();
            assertTrue(c.isOpen());
        } finally {
            late.join();
        }
    }

    @Test
    void connectRetriesWhileTheSocketRefuses() throws Exception {
        // A socket file nobody listens on any more, as a crashed QEMU leaves behind.
        try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(sock()));
        }
        QmpException e =
                assertThrows(
                        QmpException.class,
                        () -> QmpConnection.connect(sock(), Duration.ofMillis(300), listener));
        assertEquals(Kind.CONNECT, e.kind());
    }

    @Test
    void connectGivesUpWhenNothingEverListens() {
        Path missing = dir.resolve("never.sock");
        long start = System.nanoTime();
        QmpException e =
                assertThrows(
                        QmpException.class,
                        () -> QmpConnection.connect(missing, Duration.ofMillis(300), listener));
        assertEquals(Kind.CONNECT, e.kind());
        assertTrue(
                e.getMessage().startsWith("Failed to connect to QMP socket " + missing + ": "),
                e.getMessage());
        assertNotNull(e.getCause());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(15));
    }

    @Test
    void connectTimesOutWhenNoGreetingComes() throws Exception {
        // Listening but silent, like QEMU while another client holds the monitor.
        try (ServerSocketChannel silent = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            silent.bind(UnixDomainSocketAddress.of(sock()));
            QmpException e =
                    assertThrows(
                            QmpException.class,
                            () -> QmpConnection.connect(sock(), Duration.ofMillis(300), listener));
            assertEquals(Kind.CONNECT, e.kind());
            assertTrue(e.getMessage().contains("no greeting"), e.getMessage());
        }
    }

    @Test
    void aGreetingThatIsNotQmpIsAProtocolError() throws Exception {
        for (String greeting : List.of("{\"hello\": \"world\"}", "SSH-2.0-OpenSSH_9.2")) {
            FakeQmpServer server = FakeQmpServer.start(sock(), greeting);
            try {
                QmpException e =
                        assertThrows(
                                QmpException.class,
                                () -> QmpConnection.connect(sock(), LONG, listener));
                assertEquals(Kind.PROTOCOL, e.kind(), e::getMessage);
                assertTrue(e.getMessage().contains("expected a QMP greeting"), e.getMessage());
            } finally {
                server.close();
            }
        }
        assertEquals(0, listener.disconnectCount(), "a failed connect must not call the listener");
    }

    @Test
    void aRefusedCapabilitiesNegotiationFailsConnect() throws Exception {
        server().on(
                        "qmp_capabilities",
                        (request, peer) -> peer.error(request, "CommandNotFound", "nope"));
        QmpException e =
                assertThrows(
                        QmpException.class, () -> QmpConnection.connect(sock(), LONG, listener));
        assertEquals(Kind.ERROR_REPLY, e.kind());
    }

    @Test
    void connectIsInterruptible() throws Exception {
        Thread.currentThread().interrupt();
        assertThrows(
                InterruptedException.class,
                () -> QmpConnection.connect(dir.resolve("never.sock"), LONG, listener));
        assertFalse(Thread.interrupted());
    }

    /** Collects callbacks for assertions on the test thread. */
    static final class RecordingListener implements QmpConnection.Listener {
        private final BlockingQueue<QmpEvent> events = new LinkedBlockingQueue<>();
        private final List<QmpEvent> seen = new CopyOnWriteArrayList<>();
        private final List<Optional<Throwable>> disconnects = new CopyOnWriteArrayList<>();
        private final CountDownLatch disconnected = new CountDownLatch(1);
        private volatile Thread reporter;

        @Override
        public void onEvent(QmpEvent event) {
            seen.add(event);
            events.add(event);
        }

        @Override
        public void onDisconnect(Throwable cause) {
            disconnects.add(Optional.ofNullable(cause));
            reporter = Thread.currentThread();
            disconnected.countDown();
        }

        int disconnectCount() {
            return disconnects.size();
        }

        /** Waits for onDisconnect and returns its cause. */
        Throwable awaitDisconnect() throws InterruptedException {
            assertTrue(disconnected.await(30, TimeUnit.SECONDS), "onDisconnect was not called");
            return disconnects.get(0).orElse(null);
        }

        /** Waits until the thread that called onDisconnect (the reader) has ended. */
        void awaitReporterEnded() throws InterruptedException {
            awaitDisconnect();
            Thread t = reporter;
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(t.isAlive(), "the thread that reported the disconnect still runs");
        }

        List<String> names() {
            return seen.stream().map(QmpEvent::name).toList();
        }

        List<QmpEvent> awaitEvents(int count) throws InterruptedException, TimeoutException {
            List<QmpEvent> got = new ArrayList<>();
            while (got.size() < count) {
                QmpEvent e = events.poll(30, TimeUnit.SECONDS);
                if (e == null) {
                    throw new TimeoutException(
                            "only " + got.size() + " of " + count + " events arrived");
                }
                got.add(e);
            }
            return got;
        }
    }
}
