package dev.vmrunner.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestAgentTest {
    private static final Duration TIMEOUT = Duration.ofMillis(700);

    @TempDir Path dir;
    private Path socket;
    private FakeAgent fake;
    private GuestAgent agent;

    @BeforeEach
    void start() throws Exception {
        socket = dir.resolve("org.qemu.guest_agent.0");
        fake = new FakeAgent(socket);
        agent = new GuestAgent(socket, TIMEOUT);
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
        fake.close();
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private static AgentException failure(CompletableFuture<?> f) {
        ExecutionException e =
                assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(AgentException.class, e.getCause());
    }

    @Test
    void syncDiscardsStaleLinesBeforeTheDelimitedAnswer() throws Exception {
        fake.on(
                "guest-sync-delimited",
                (r, p) -> {
                    // replies of an earlier session, a half line, a sync answer of another id
                    p.line("{\"return\": {}, \"id\": 1}");
                    p.line("{\"return\": 12345}");
                    p.raw("{\"return\": [1, 2".getBytes(StandardCharsets.UTF_8));
                    p.raw(new byte[] {(byte) 0xFF});
                    p.line("{\"return\": 999}"); // a stale sync answer after a delimiter
                    p.syncReply(r);
                });
        fake.on(
                "guest-get-host-name",
                (r, p) -> {
                    JsonObject o = new JsonObject();
                    o.addProperty("host-name", "guest1");
                    p.reply(r, o);
                });
        assertEquals("guest1", get(agent.hostName()));
        assertEquals(1, fake.connections.get());
    }

    @Test
    void syncRequestStartsWithTheDelimiterByte() throws Exception {
        get(agent.ping());
        assertEquals(1, fake.delimitersReceived.get());
        JsonObject sync = fake.next("guest-sync-delimited");
        assertNotNull(sync);
        assertTrue(sync.getAsJsonObject("arguments").get("id").getAsLong() > 0);
        get(agent.ping());
        assertEquals(1, fake.delimitersReceived.get(), "one sync per connection while answered");
    }

    @Test
    void typedCommandsParseTheAnswers() throws Exception {
        fake.on(
                "guest-get-osinfo",
                (r, p) ->
                        p.reply(
                                r,
                                JsonParser.parseString(
                                        "{\"id\":\"debian\",\"pretty-name\":\"Debian GNU/Linux 12"
                                            + " (bookworm)\",\"kernel-release\":\"6.1.0-57-amd64\","
                                            + "\"machine\":\"x86_64\"}")));
        fake.on(
                "guest-get-timezone",
                (r, p) -> p.reply(r, JsonParser.parseString("{\"zone\":\"CET\",\"offset\":3600}")));
        fake.on(
                "guest-network-get-interfaces",
                (r, p) ->
                        p.reply(
                                r,
                                JsonParser.parseString(
                                        "[{\"name\":\"lo\",\"ip-addresses\":[{\"ip-address-type\":"
                                            + "\"ipv4\",\"ip-address\":\"127.0.0.1\",\"prefix\":8}]},"
                                            + "{\"name\":\"eth0\",\"hardware-address\":"
                                            + "\"52:54:00:aa:bb:cc\"}]")));
        OsInfo os = get(agent.osInfo());
        assertEquals("debian", os.id());
        assertEquals("Debian GNU/Linux 12 (bookworm)", os.describe());
        assertEquals("6.1.0-57-amd64", os.kernelRelease());
        assertEquals(new GuestTimeZone("CET", 3600), get(agent.timeZone()));
        List<GuestInterface> nics = get(agent.networkInterfaces());
        assertEquals("127.0.0.1/8", nics.get(0).addresses().get(0).toString());
        assertEquals("52:54:00:aa:bb:cc", nics.get(1).hardwareAddress());
        assertEquals(List.of(), nics.get(1).addresses());
    }

    @Test
    void errorReplyKeepsClassAndDescription() throws Exception {
        AgentException e = failure(agent.execute("guest-nonsense", null));
        assertEquals(AgentException.Kind.ERROR_REPLY, e.kind());
        assertEquals("CommandNotFound", e.errorClass());
        assertTrue(e.getMessage().startsWith("Failed to run guest agent command guest-nonsense"));
    }

    @Test
    void malformedAnswerIsAProtocolError() throws Exception {
        fake.on("guest-get-host-name", (r, p) -> p.reply(r, new JsonObject()));
        assertEquals(AgentException.Kind.PROTOCOL, failure(agent.hostName()).kind());
    }

    @Test
    void timeoutThenResyncDiscardsTheLateReply() throws Exception {
        AtomicReference<JsonObject> unanswered = new AtomicReference<>();
        AtomicInteger pings = new AtomicInteger();
        fake.on(
                "guest-ping",
                (r, p) -> {
                    if (pings.incrementAndGet() == 1) {
                        unanswered.set(r); // the agent "restarts" before answering
                    } else {
                        p.reply(r, new JsonObject());
                    }
                });
        fake.on(
                "guest-sync-delimited",
                (r, p) -> {
                    if (unanswered.get() != null) {
                        p.reply(unanswered.get(), new JsonObject()); // the late reply
                    }
                    p.syncReply(r);
                });
        long t0 = System.nanoTime();
        CompletableFuture<Void> first = agent.ping();
        assertTrue(System.nanoTime() - t0 < 100_000_000L, "execute must not block the caller");
        AgentException e = failure(first);
        assertEquals(AgentException.Kind.TIMEOUT, e.kind());
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(waited >= TIMEOUT.toMillis() - 50 && waited < 5000, "waited " + waited);
        get(agent.ping());
        assertEquals(2, fake.delimitersReceived.get(), "synced again after the timeout");
        assertEquals(1, fake.connections.get(), "a timeout does not reconnect");
    }

    @Test
    void replyWithAnotherIdIsDropped() throws Exception {
        fake.on(
                "guest-get-host-name",
                (r, p) -> {
                    p.line("{\"return\": {\"host-name\": \"old\"}, \"id\": 1}");
                    JsonObject o = new JsonObject();
                    o.addProperty("host-name", "new");
                    p.reply(r, o);
                });
        assertEquals("new", get(agent.hostName()));
    }

    @Test
    void silentAgentTimesOutAtSync() throws Exception {
        fake.on("guest-sync-delimited", (r, p) -> {});
        AgentException e = failure(agent.ping());
        assertEquals(AgentException.Kind.TIMEOUT, e.kind());
        assertTrue(e.getMessage().contains("guest-sync-delimited"), e.getMessage());
    }

    @Test
    void disconnectMidCommandFailsItAndTheNextCallReconnects() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        fake.on(
                "guest-get-host-name",
                (r, p) -> {
                    if (calls.incrementAndGet() == 1) {
                        p.hangUp = true; // QEMU went away mid-command
                    } else {
                        JsonObject o = new JsonObject();
                        o.addProperty("host-name", "back");
                        p.reply(r, o);
                    }
                });
        AgentException e = failure(agent.hostName());
        assertEquals(AgentException.Kind.DISCONNECTED, e.kind());
        assertEquals("back", get(agent.hostName()));
        assertEquals(2, fake.connections.get());
        assertEquals(2, fake.delimitersReceived.get(), "synced after the reconnect");
    }

    @Test
    void noSocketFailsWithConnect() throws Exception {
        fake.close();
        AgentException e = failure(agent.ping());
        assertEquals(AgentException.Kind.CONNECT, e.kind());
        assertTrue(e.getMessage().contains(socket.toString()), e.getMessage());
    }

    @Test
    void shutdownWithoutReplySucceedsAndAnErrorFails() throws Exception {
        fake.on("guest-shutdown", (r, p) -> {});
        assertNull(get(agent.shutdown("powerdown")));
        JsonObject request = fake.next("guest-shutdown");
        assertEquals("powerdown", request.getAsJsonObject("arguments").get("mode").getAsString());
        fake.on("guest-shutdown", (r, p) -> p.error(r, "GenericError", "child process failed"));
        AgentException e = failure(agent.shutdown("powerdown"));
        assertEquals(AgentException.Kind.ERROR_REPLY, e.kind());
    }

    @Test
    void closedClientFailsCalls() throws Exception {
        agent.close();
        assertEquals(AgentException.Kind.DISCONNECTED, failure(agent.ping()).kind());
    }
}
