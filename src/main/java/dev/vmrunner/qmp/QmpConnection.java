package dev.vmrunner.qmp;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.vmrunner.qmp.QmpException.Kind;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One QMP session over QEMU's Unix socket: transport only (greeting, capabilities negotiation, an
 * id on every command matched to a future, a timeout per command, a disconnect that fails
 * everything pending). Modelled on QEMU's {@code python/qemu/qmp/qmp_client.py}.
 *
 * <p>One daemon thread per connection reads; it completes reply futures and calls the {@link
 * Listener}. Stages chained onto a returned future without {@code *Async} therefore run on that
 * thread: they must not block, or no further replies or events are read.
 */
public final class QmpConnection implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(QmpConnection.class.getName());

    /** query-block on a VM with many disks is a few hundred KiB; anything near this is not QMP. */
    private static final int MAX_MESSAGE_BYTES = 16 << 20;

    /** Receives what QEMU sends unasked. Both methods run on the connection's reader thread. */
    public interface Listener {
        /** Called in arrival order; must not block for long. */
        void onEvent(QmpEvent event);

        /**
         * Called once, after the last event; {@code cause} is null when we closed the connection.
         */
        void onDisconnect(Throwable cause);
    }

    private final Path socket;
    private final SocketChannel channel;
    private final Listener listener;
    private final Handshake handshake;
    private final Thread reader;
    private final AtomicLong lastId = new AtomicLong();
    private final Object writeLock = new Object();
    private final PendingCalls pending = new PendingCalls();
    private volatile boolean closedByUs;
    private volatile Throwable writeFailure;
    private final QmpStats stats;

    private QmpConnection(Path socket, SocketChannel channel, Listener listener, QmpStats stats) {
        this.socket = socket;
        this.channel = channel;
        this.listener = listener;
        this.handshake = new Handshake(socket);
        this.stats = stats;
        this.reader = new Thread(this::readLoop, "qmp-reader " + socket.getFileName());
        reader.setDaemon(true);
    }

    /**
     * Runs the JSON code of a connection once on sample frames, so that the first connection of a
     * start finds its classes loaded and initialized. No I/O; safe on any thread.
     */
    public static void warmUp() {
        Frames.warmUp();
    }

    /**
     * Connects to QEMU's QMP socket, retrying while the socket does not exist yet or refuses (QEMU
     * creates it shortly after start), until the deadline; reads the greeting, sends {@code
     * qmp_capabilities}, and returns once negotiation succeeded.
     *
     * @param listener receives events and the disconnect; null for none. It is never called if this
     *     method throws.
     */
    public static QmpConnection connect(Path socket, Duration timeout, Listener listener)
            throws QmpException, InterruptedException {
        return connect(socket, timeout, listener, null);
    }

    /**
     * Like {@link #connect(Path, Duration, Listener)}; every command's time and failure is added to
     * {@code stats} (null for none) once it completes.
     */
    public static QmpConnection connect(
            Path socket, Duration timeout, Listener listener, QmpStats stats)
            throws QmpException, InterruptedException {
        Objects.requireNonNull(socket, "socket");
        long deadline = System.nanoTime() + saturatedNanos(timeout);
        SocketChannel channel = Handshake.openWithRetry(socket, timeout, deadline);
        QmpConnection connection = new QmpConnection(socket, channel, listener, stats);
        connection.reader.start();
        try {
            connection.handshake.negotiate(connection, timeout, deadline);
            connection.establish();
            return connection;
        } catch (QmpException | InterruptedException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /** From here on the listener is owed {@code onDisconnect}. */
    private void establish() throws QmpException {
        if (!pending.establish()) {
            throw new QmpException(
                    Kind.DISCONNECTED,
                    "Failed to negotiate QMP on " + socket + ": QEMU closed the connection",
                    writeFailure);
        }
    }

    /**
     * The greeting's {@code "QMP"} object: {@code {"version": {"qemu": {...}, "package": ...},
     * "capabilities": [...]}}.
     */
    public JsonObject greeting() {
        return handshake.greeting().deepCopy();
    }

    /**
     * Sends {@code {"execute": command, "arguments": arguments, "id": N}}. The future completes
     * with the reply's {@code "return"} value, or exceptionally with a {@link QmpException}: {@code
     * ERROR_REPLY} (class and desc kept), {@code TIMEOUT} after {@code timeout} (a late reply is
     * then dropped), or {@code DISCONNECTED}. Safe to call from any thread.
     *
     * @param arguments the command's arguments, or null for none; not modified
     */
    public CompletableFuture<JsonElement> execute(
            String command, JsonObject arguments, Duration timeout) {
        Objects.requireNonNull(command, "command");
        long timeoutNanos = saturatedNanos(timeout);
        long id = lastId.incrementAndGet();
        String key = Long.toString(id);
        PendingCalls.Call call = new PendingCalls.Call(command, new CompletableFuture<>());
        if (!pending.add(key, call)) {
            return CompletableFuture.failedFuture(
                    QmpException.disconnected(command, socket, writeFailure));
        }
        CompletableFuture<JsonElement> result = new CompletableFuture<>();
        if (stats != null) {
            stats.recordOnCompletion(command, result);
        }
        pending.relayWithin(key, call, timeoutNanos, result);
        send(command, key, Frames.command(command, arguments, id));
        return result;
    }

    private void send(String command, String key, JsonObject message) {
        String text = message.toString();
        LOG.fine(() -> "QMP " + socket.getFileName() + " -> " + Frames.redacted(message));
        ByteBuffer bytes = StandardCharsets.UTF_8.encode(text + "\n");
        synchronized (writeLock) {
            // A pending interrupt would make the channel close itself (InterruptibleChannel) and
            // end the
            // session for every caller; a QMP command is a few hundred bytes, so write it
            // regardless.
            boolean interrupted = Thread.interrupted();
            try {
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
            } catch (IOException e) {
                if (writeFailure == null && !pending.isClosed()) {
                    writeFailure = e;
                }
                pending.fail(key, QmpException.disconnected(command, socket, e));
                closeChannel(); // the reader sees the close and reports the disconnect
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** True until the connection closed, from either side. */
    public boolean isOpen() {
        return !pending.isClosed();
    }

    /**
     * Closes the socket and fails all pending calls with {@code DISCONNECTED}; the listener's
     * {@code onDisconnect(null)} follows on the reader thread. Idempotent.
     */
    @Override
    public void close() {
        closedByUs = true;
        closeChannel();
        failAll(null);
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "Closing QMP socket " + socket + " failed", e);
        }
    }

    // ---- reader thread ----

    private void readLoop() {
        Throwable cause;
        try {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            LineSplitter lines = new LineSplitter(MAX_MESSAGE_BYTES);
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                lines.feed(buffer, this::onLine);
                buffer.clear();
            }
            cause = new EOFException("QEMU closed the QMP socket");
        } catch (IOException | RuntimeException | Error e) {
            // An Error too (an OutOfMemoryError): the connection ends as if lost, and the
            // supervisor connects again while QEMU lives, rather than a reader that died unheard
            cause = e;
        }
        if (closedByUs) {
            cause = null;
        } else if (writeFailure != null) {
            cause = writeFailure;
        }
        closeChannel();
        if (failAll(cause) && listener != null) {
            try {
                listener.onDisconnect(cause);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "QMP listener failed on disconnect from " + socket, e);
            }
        }
        LOG.fine(() -> "QMP reader for " + socket + " stopped");
    }

    private void onLine(String line) throws IOException {
        LOG.fine(() -> "QMP " + socket.getFileName() + " <- " + line);
        if (line.isBlank()) {
            return;
        }
        JsonObject message = Frames.parse(line);
        if (!handshake.greetingDone()) {
            handshake.acceptGreeting(message, line);
        } else if (message == null) {
            LOG.warning(
                    () ->
                            "Ignoring unparseable QMP message from "
                                    + socket
                                    + ": "
                                    + Frames.abbreviate(line));
        } else if (message.has("event")) {
            dispatchEvent(message);
        } else if (message.has("return") || message.has("error")) {
            dispatchReply(message);
        } else {
            LOG.warning(
                    () ->
                            "Ignoring unexpected QMP message from "
                                    + socket
                                    + ": "
                                    + Frames.abbreviate(line));
        }
    }

    private void dispatchEvent(JsonObject message) {
        QmpEvent event = Frames.event(message);
        if (listener == null) {
            return;
        }
        try {
            listener.onEvent(event);
        } catch (RuntimeException e) {
            LOG.log(
                    Level.WARNING,
                    "QMP listener failed on event " + event.name() + " from " + socket,
                    e);
        }
    }

    private void dispatchReply(JsonObject message) {
        JsonElement id = message.get("id");
        if (id == null || !id.isJsonPrimitive()) {
            LOG.warning(
                    () ->
                            "Ignoring QMP reply without an id from "
                                    + socket
                                    + ": "
                                    + Frames.abbreviate(message.toString()));
            return;
        }
        PendingCalls.Call call = pending.remove(id.getAsString());
        if (call == null) {
            LOG.fine(
                    () ->
                            "Dropping QMP reply to id "
                                    + id
                                    + " from "
                                    + socket
                                    + ": nobody waits for it (timed out?)");
            return;
        }
        JsonElement error = message.get("error");
        if (error != null) {
            call.reply().completeExceptionally(Frames.error(call.command(), error));
        } else {
            call.reply().complete(message.get("return"));
        }
    }

    // ---- pending calls ----

    /**
     * Marks the connection closed and fails every pending call; returns whether the listener is
     * owed onDisconnect.
     */
    private boolean failAll(Throwable cause) {
        PendingCalls.Drained drained = pending.closeAll();
        handshake.greetingFailed(
                new QmpException(
                        Kind.DISCONNECTED,
                        "Failed to negotiate QMP on "
                                + socket
                                + ": "
                                + QmpException.lost(socket, cause),
                        cause));
        for (PendingCalls.Call call : drained.calls()) {
            call.reply()
                    .completeExceptionally(
                            QmpException.disconnected(call.command(), socket, cause));
        }
        return drained.wasEstablished();
    }

    private static long saturatedNanos(Duration duration) {
        if (duration.isNegative()) {
            throw new IllegalArgumentException("negative timeout " + duration);
        }
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE
                    / 4; // far beyond any real wait, and still safe to add to nanoTime()
        }
    }
}
