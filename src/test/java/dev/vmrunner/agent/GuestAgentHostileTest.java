package dev.vmrunner.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest agent that breaks the channel's bounds: each way is disconnected as misbehaving, the next
 * call within the backoff is refused without touching the socket, and the agent is asked again
 * after it.
 */
class GuestAgentHostileTest {
    private static final Duration TIMEOUT = Duration.ofMillis(1500);
    private static final Duration BACKOFF = Duration.ofMillis(1500);

    /** The clock of the client's backoff: moved by the test, never by real time. */
    private final AtomicLong clock = new AtomicLong();

    @TempDir Path dir;
    private FakeAgent fake;
    private GuestAgent agent;
    private final AtomicBoolean hostile = new AtomicBoolean(true);

    @BeforeEach
    void start() throws Exception {
        Path socket = dir.resolve("org.qemu.guest_agent.0");
        fake = new FakeAgent(socket);
        agent = new GuestAgent(socket, TIMEOUT, BACKOFF, clock::get);
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
        fake.close();
    }

    /** The sync is answered with {@code flood} while hostile, then properly. */
    private void onSync(FakeAgent.Handler flood) {
        fake.on(
                "guest-sync-delimited",
                (r, p) -> {
                    if (hostile.get()) {
                        flood.handle(r, p);
                    } else {
                        p.syncReply(r);
                    }
                });
    }

    private void assertMisbehavesThenRecovers(String why) throws Exception {
        AgentException e = failure(agent.ping());
        assertEquals(AgentException.Kind.MISBEHAVING, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains(why), e.getMessage());
        assertEquals(e.getMessage(), agent.misbehaving());
        assertEquals(1, agent.misbehaviours());

        int connections = fake.connections.get();
        AgentException refused = failure(agent.ping());
        assertEquals(AgentException.Kind.MISBEHAVING, refused.kind());
        assertTrue(
                refused.getMessage().startsWith("Not running guest agent command"),
                refused.getMessage());
        assertEquals(connections, fake.connections.get(), "not asked during the backoff");

        hostile.set(false);
        clock.addAndGet(BACKOFF.toNanos()); // the backoff has passed
        agent.ping().get(10, TimeUnit.SECONDS);
        assertNull(agent.misbehaving(), "behaves again");
        assertEquals(1, agent.misbehaviours());
    }

    @Test
    void aFloodOfShortLinesIsMisbehaving() throws Exception {
        onSync(
                (r, p) -> {
                    byte[] line = "{\"return\": {}}\n".getBytes(StandardCharsets.UTF_8);
                    byte[] many = new byte[line.length * 1000];
                    for (int i = 0; i < 1000; i++) {
                        System.arraycopy(line, 0, many, i * line.length, line.length);
                    }
                    floodUntilClosed(p, many);
                });
        assertMisbehavesThenRecovers("The guest agent sent more than");
    }

    @Test
    void aLineLongerThanTheLimitIsMisbehaving() throws Exception {
        onSync(
                (r, p) -> {
                    byte[] line = new byte[AgentChannel.MAX_LINE_BYTES + 10];
                    Arrays.fill(line, (byte) 'a');
                    line[line.length - 1] = '\n';
                    floodUntilClosed(p, line);
                });
        assertMisbehavesThenRecovers("a line longer than 256 KiB");
    }

    @Test
    void anEndlessLineIsMisbehaving() throws Exception {
        onSync(
                (r, p) -> {
                    byte[] chunk = new byte[64 * 1024];
                    Arrays.fill(chunk, (byte) 'x');
                    floodUntilClosed(p, chunk);
                });
        assertMisbehavesThenRecovers("a line longer than");
    }

    @Test
    void endlessDelimitersAreMisbehaving() throws Exception {
        onSync(
                (r, p) -> {
                    byte[] chunk = new byte[64 * 1024];
                    Arrays.fill(chunk, (byte) 0xFF);
                    floodUntilClosed(p, chunk);
                });
        assertMisbehavesThenRecovers("0xFF delimiters");
    }

    @Test
    void aLineThatIsNotUtf8IsMisbehaving() throws Exception {
        onSync(
                (r, p) ->
                        p.raw(
                                new byte[] {
                                    '{', '"', 'r', '"', ':', (byte) 0xC3, (byte) 0x28, '}', '\n'
                                }));
        assertMisbehavesThenRecovers("not UTF-8");
    }

    @Test
    void wrongSyncIdsAreMisbehaving() throws Exception {
        onSync(
                (r, p) -> {
                    for (int i = 0; i < 40; i++) {
                        p.raw(new byte[] {(byte) 0xFF});
                        p.line("{\"return\": " + (i + 7) + "}");
                    }
                });
        AgentException e = failure(agent.ping());
        assertEquals(AgentException.Kind.MISBEHAVING, e.kind(), e.getMessage());
    }

    @Test
    void manyAnswersWithWrongIdsAreMisbehaving() throws Exception {
        hostile.set(false);
        onSync((r, p) -> {});
        fake.on(
                "guest-get-host-name",
                (r, p) -> {
                    for (int i = 0; i < 40; i++) {
                        p.line("{\"return\": {\"host-name\": \"x\"}, \"id\": " + i + "}");
                    }
                });
        AgentException e = failure(agent.hostName());
        assertEquals(AgentException.Kind.MISBEHAVING, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("answer no request"), e.getMessage());
    }

    @Test
    void whatArrivesWhileNobodyAsksIsDrainedUnread() throws Exception {
        hostile.set(false);
        onSync((r, p) -> {});
        CountDownLatch written = new CountDownLatch(1);
        fake.on(
                "guest-ping",
                (r, p) -> {
                    p.reply(r, new JsonObject());
                    // after the answer: output nobody asked for, within the drain bound
                    byte[] junk = new byte[100 * 1024];
                    Arrays.fill(junk, (byte) 'j');
                    p.raw(junk);
                    written.countDown();
                });
        agent.ping().get(10, TimeUnit.SECONDS);
        assertTrue(written.await(10, TimeUnit.SECONDS));
        agent.ping().get(10, TimeUnit.SECONDS);
        assertNull(agent.misbehaving());
        assertEquals(1, fake.connections.get());
    }

    @Test
    void lateAnswersToSyncsThatTimedOutAreNoMisbehaviour() throws Exception {
        // QEMU holds the requests while the guest's port is closed (a reboot); the new agent
        // then answers them all at once
        List<JsonObject> held = new ArrayList<>();
        AtomicBoolean booting = new AtomicBoolean(true);
        fake.on(
                "guest-sync-delimited",
                (r, p) -> {
                    held.add(r);
                    if (!booting.get()) {
                        for (JsonObject h : held) {
                            p.syncReply(h);
                        }
                        held.clear();
                    }
                });
        try (GuestAgent quick =
                new GuestAgent(fake.socket(), Duration.ofMillis(100), BACKOFF, clock::get)) {
            for (int i = 0; i < 12; i++) {
                assertEquals(AgentException.Kind.TIMEOUT, failure(quick.ping()).kind());
            }
            booting.set(false);
            quick.ping().get(10, TimeUnit.SECONDS);
            assertNull(quick.misbehaving());
        }
    }

    /** Writes {@code chunk} until the client hangs up. */
    private static void floodUntilClosed(FakeAgent.Peer p, byte[] chunk) {
        try {
            for (int i = 0; i < 10_000; i++) {
                p.raw(chunk);
            }
        } catch (java.io.IOException e) {
            // the client disconnected, as it should
        }
    }

    private static AgentException failure(CompletableFuture<?> f) {
        ExecutionException e =
                assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(AgentException.class, e.getCause());
    }
}
