package dev.vmrunner.agent;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.vmrunner.agent.AgentException.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * A client of the QEMU guest agent on {@code ${runtimeDir}/org.qemu.guest_agent.0}, where QEMU
 * listens (chardev {@code server=on,wait=off}) and relays to the guest's virtio-serial port.
 *
 * <p>The agent answers one request at a time and restarts with the guest (or on its own) without
 * QEMU closing our socket, so a reply may belong to a request of an earlier agent. Hence: calls are
 * queued and run one after another on a daemon thread of their own; before the first command of a
 * connection and after every timeout the client sends {@code guest-sync-delimited} (preceded by
 * 0xFF, which resets the agent's parser) and discards everything until the 0xFF the agent puts
 * before its answer and the answer that carries our random id; every command carries an id and
 * replies with another id are dropped. A closed socket is reconnected by the next call.
 *
 * <p>No method blocks: each returns a future that completes on the client's thread (so stages
 * chained without {@code *Async} run there and must not block), or exceptionally with an {@link
 * AgentException}. A call waits its turn in the queue; then the sync (when due) and the command
 * each get at most the timeout.
 *
 * <p>The guest is untrusted: the socket is read only while a request waits, within the bounds of
 * {@link AgentChannel}, and an answer with a wrong id counts against {@link #MAX_STALE_LINES}. A
 * guest past a bound is disconnected and not asked again for a backoff ({@link Misbehaviour}). Even
 * an {@link Error} on the worker fails only the call it ran.
 */
public final class GuestAgent implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(GuestAgent.class.getName());

    /** How long {@code guest-shutdown} (which answers only errors) waits for an error. */
    private static final Duration NO_REPLY_WAIT = Duration.ofSeconds(1);

    /** Lines one request may skip (stale answers, wrong ids) before the agent misbehaves. */
    static final int MAX_STALE_LINES = 32;

    /** At most this many timed-out requests are allowed a late answer. */
    private static final int MAX_UNANSWERED = 64;

    /** The first pause after the agent broke a bound of the channel. */
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(5);

    private final Path socket;
    private final Duration timeout;
    private final ExecutorService worker;
    private final Misbehaviour misbehaviour;
    // only touched on the worker thread
    private AgentChannel channel;
    private boolean synced;
    // requests on this connection that timed out: their answers may still come
    private int unanswered;
    private long nextId = ThreadLocalRandom.current().nextLong(1, 1L << 40);
    private volatile boolean closed;
    private volatile AgentChannel current; // for close() from another thread

    /**
     * @param socket the agent's socket, {@code ${runtimeDir}/org.qemu.guest_agent.0}
     * @param timeout the time the sync and each command may take
     */
    public GuestAgent(Path socket, Duration timeout) {
        this(socket, timeout, FIRST_BACKOFF, System::nanoTime);
    }

    /**
     * @param nanoTime the clock of the backoff after a misbehaviour
     */
    GuestAgent(Path socket, Duration timeout, Duration firstBackoff, LongSupplier nanoTime) {
        this.socket = Objects.requireNonNull(socket, "socket");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.misbehaviour = new Misbehaviour(firstBackoff, nanoTime);
        this.worker =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread t = new Thread(r, "guest-agent " + socket.getFileName());
                            t.setDaemon(true);
                            return t;
                        });
    }

    public Path socket() {
        return socket;
    }

    /**
     * Why the agent is disconnected for breaking a bound of its channel (a flood, an endless line,
     * bytes that are not UTF-8, answers with wrong ids), while it has not answered properly since;
     * null while it behaves. Any thread.
     */
    public String misbehaving() {
        return misbehaviour.problem();
    }

    /** How often the agent was disconnected for breaking a bound. Any thread. */
    public long misbehaviours() {
        return misbehaviour.count();
    }

    /**
     * Runs {@code command} (arguments may be null) and completes with its {@code "return"} value.
     */
    public CompletableFuture<JsonElement> execute(String command, JsonObject arguments) {
        return submit(command, arguments, true, r -> r);
    }

    /** {@code guest-ping}: completes when the agent answers. */
    public CompletableFuture<Void> ping() {
        return submit("guest-ping", null, true, r -> null);
    }

    /** {@code guest-get-osinfo}. */
    public CompletableFuture<OsInfo> osInfo() {
        return submit("guest-get-osinfo", null, true, r -> OsInfo.from(object(r)));
    }

    /** {@code guest-get-host-name}. */
    public CompletableFuture<String> hostName() {
        return submit(
                "guest-get-host-name", null, true, r -> Replies.string(object(r), "host-name"));
    }

    /** {@code guest-get-timezone}. */
    public CompletableFuture<GuestTimeZone> timeZone() {
        return submit("guest-get-timezone", null, true, r -> GuestTimeZone.from(object(r)));
    }

    /** {@code guest-network-get-interfaces}. */
    public CompletableFuture<List<GuestInterface>> networkInterfaces() {
        return submit("guest-network-get-interfaces", null, true, GuestInterface::listFrom);
    }

    /**
     * {@code guest-shutdown} with {@code mode} ({@code powerdown}, {@code reboot} or {@code halt}).
     * The agent answers only when it failed to start the shutdown, so this completes normally once
     * the request was written and no error came within a second.
     */
    public CompletableFuture<Void> shutdown(String mode) {
        JsonObject arguments = new JsonObject();
        arguments.addProperty("mode", mode);
        return submit("guest-shutdown", arguments, false, r -> null);
    }

    /** Closes the socket; queued and later calls fail with DISCONNECTED. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        AgentChannel c = current;
        if (c != null) {
            c.close(); // wakes a worker waiting for an answer
        }
        worker.execute(this::dropChannel);
        worker.shutdown();
    }

    private <T> CompletableFuture<T> submit(
            String command,
            JsonObject arguments,
            boolean expectReply,
            Function<JsonElement, T> convert) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(closedError(command));
            return result;
        }
        try {
            worker.execute(() -> run(command, arguments, expectReply, convert, result));
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(closedError(command));
        }
        return result;
    }

    private <T> void run(
            String command,
            JsonObject arguments,
            boolean expectReply,
            Function<JsonElement, T> convert,
            CompletableFuture<T> result) {
        if (result.isDone()) {
            return; // cancelled while queued
        }
        if (closed) {
            result.completeExceptionally(closedError(command));
            return;
        }
        try {
            AgentException refused = misbehaviour.refusal(command);
            if (refused != null) {
                throw refused;
            }
            ensureSynced();
            JsonElement reply = call(command, arguments, expectReply);
            misbehaviour.answered();
            result.complete(convert(command, reply, convert));
        } catch (AgentException e) {
            result.completeExceptionally(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result.completeExceptionally(closedError(command));
        } catch (RuntimeException | Error e) {
            // An OutOfMemoryError (or a bug) fails this call only: the watcher asks again later
            dropChannel();
            result.completeExceptionally(
                    new AgentException(
                            Kind.PROTOCOL,
                            "Failed to run guest agent command " + command + ": " + e,
                            e));
        }
    }

    private static <T> T convert(String command, JsonElement reply, Function<JsonElement, T> f)
            throws AgentException {
        try {
            return f.apply(reply);
        } catch (RuntimeException e) {
            throw new AgentException(
                    Kind.PROTOCOL,
                    "Failed to read the answer to guest agent command "
                            + command
                            + ": "
                            + e.getMessage(),
                    e);
        }
    }

    private void ensureSynced() throws AgentException, InterruptedException {
        if (channel == null || !channel.isOpen()) {
            dropChannel();
            channel = AgentChannel.open(socket);
            current = channel;
            LOG.fine(() -> "Connected to guest agent socket " + socket);
        }
        if (!synced) {
            long started = System.nanoTime();
            long id = nextId++;
            AgentExchange exchange = new AgentExchange(channel, timeout, unanswered);
            try {
                exchange.sync(id);
            } catch (AgentException e) {
                failed(e);
                throw e;
            }
            synced = true;
            unanswered = 0; // the agent answers in order: all earlier answers came before
            LOG.fine(
                    () ->
                            "Guest agent synced in "
                                    + (System.nanoTime() - started) / 1_000_000
                                    + " ms");
        }
    }

    private JsonElement call(String command, JsonObject arguments, boolean expectReply)
            throws AgentException, InterruptedException {
        long id = nextId++;
        AgentExchange exchange =
                new AgentExchange(
                        channel, expectReply ? timeout : shorter(NO_REPLY_WAIT), unanswered);
        try {
            if (expectReply) {
                return exchange.call(command, arguments, id);
            }
            exchange.callWithoutReply(command, arguments, id);
            synced = false; // a late error reply is discarded by the next sync
            unanswered = Math.min(MAX_UNANSWERED, unanswered + 1);
            return null;
        } catch (AgentException e) {
            failed(e);
            throw e;
        }
    }

    private Duration shorter(Duration d) {
        return d.compareTo(timeout) < 0 ? d : timeout;
    }

    /**
     * After a timeout the agent may have restarted: sync again; after a disconnect reconnect; a
     * guest that broke a bound is disconnected and left alone for a while.
     */
    private void failed(AgentException e) {
        synced = false;
        if (e.kind() == Kind.TIMEOUT) {
            unanswered = Math.min(MAX_UNANSWERED, unanswered + 1);
        }
        if (e.kind() == Kind.DISCONNECTED
                || e.kind() == Kind.PROTOCOL
                || e.kind() == Kind.MISBEHAVING) {
            dropChannel();
        }
        if (e.kind() == Kind.MISBEHAVING) {
            misbehaviour.record(e);
        }
    }

    private void dropChannel() {
        if (channel != null) {
            channel.close();
            channel = null;
        }
        synced = false;
    }

    private AgentException closedError(String command) {
        return new AgentException(
                Kind.DISCONNECTED,
                "Failed to run guest agent command " + command + ": the client was closed",
                null);
    }

    private static JsonObject object(JsonElement reply) {
        if (reply == null || !reply.isJsonObject()) {
            throw new IllegalStateException("expected an object, got " + reply);
        }
        return reply.getAsJsonObject();
    }
}
