package dev.vmrunner.qmp;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.vmrunner.qmp.QmpException.Kind;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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

    private static final long MAX_CONNECT_PAUSE_MILLIS = 50;
    private static final long FINE_POLL_MILLIS = 200;

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
    private final Thread reader;
    private final AtomicLong lastId = new AtomicLong();
    private final CompletableFuture<JsonObject> greeting = new CompletableFuture<>();
    private final Object writeLock = new Object();
    private final PendingCalls pending = new PendingCalls();
    private volatile boolean closedByUs;
    private volatile Throwable writeFailure;
    private final QmpStats stats;

    private QmpConnection(Path socket, SocketChannel channel, Listener listener, QmpStats stats) {
        this.socket = socket;
        this.channel = channel;
        this.listener = listener;
        this.stats = stats;
        this.reader = new Thread(this::readLoop, "qmp-reader " + socket.getFileName());
        reader.setDaemon(true);
    }

    /**
     * Runs the JSON code of a connection once on sample frames, so that the first connection of a
     * start finds its classes loaded and initialized. No I/O; safe on any thread.
     */
    public static void warmUp() {
        JsonObject greeting =
                Frames.parse(
                        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0,"
                                + " \"major\": 0}, \"package\": \"\"}, \"capabilities\": []}}");
        JsonObject reply = Frames.parse("{\"return\": {}, \"id\": 0}");
        if (greeting == null
                || reply == null
                || Frames.redacted(Frames.command("cont", null, 0)).isEmpty()) {
            throw new IllegalStateException("the sample frames did not parse");
        }
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
        SocketChannel channel = openWithRetry(socket, timeout, deadline);
        QmpConnection connection = new QmpConnection(socket, channel, listener, stats);
        connection.reader.start();
        try {
            connection.negotiate(timeout, deadline);
            return connection;
        } catch (QmpException | InterruptedException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    private static SocketChannel openWithRetry(Path socket, Duration timeout, long deadline)
            throws QmpException, InterruptedException {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);
        long started = System.nanoTime();
        while (true) {
            if (Thread.interrupted()) {
                throw new InterruptedException(
                        "Interrupted while connecting to QMP socket " + socket);
            }
            try {
                return SocketChannel.open(address);
            } catch (ClosedByInterruptException e) {
                throw new InterruptedException(
                        "Interrupted while connecting to QMP socket " + socket);
            } catch (SocketException e) {
                // "No such file or directory" until QEMU has bound the socket, "Connection refused"
                // until it listens.
                long leftNanos = deadline - System.nanoTime();
                if (leftNanos <= 0) {
                    throw new QmpException(
                            Kind.CONNECT,
                            "Failed to connect to QMP socket "
                                    + socket
                                    + ": "
                                    + e.getMessage()
                                    + " (still after "
                                    + timeout.toMillis()
                                    + " ms)",
                            e);
                }
                // QEMU usually listens within tens of ms: poll finely at first, then back off.
                long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                long pauseMillis =
                        waitedMillis < FINE_POLL_MILLIS
                                ? 1
                                : Math.min(waitedMillis / 10, MAX_CONNECT_PAUSE_MILLIS);
                Thread.sleep(Math.min(pauseMillis, TimeUnit.NANOSECONDS.toMillis(leftNanos) + 1));
            } catch (IOException e) {
                throw new QmpException(
                        Kind.CONNECT, "Failed to connect to QMP socket " + socket + ": " + e, e);
            }
        }
    }

    private void negotiate(Duration timeout, long deadline)
            throws QmpException, InterruptedException {
        // QEMU accepts a second client but stays silent until the first one leaves, hence the hint.
        awaitUntil(
                greeting,
                deadline,
                "no greeting within " + timeout.toMillis() + " ms (is another client connected?)");
        Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
        awaitUntil(
                execute("qmp_capabilities", null, left),
                deadline,
                "no reply to qmp_capabilities within " + timeout.toMillis() + " ms");
        if (!pending.establish()) {
            throw new QmpException(
                    Kind.DISCONNECTED,
                    "Failed to negotiate QMP on " + socket + ": QEMU closed the connection",
                    writeFailure);
        }
    }

    private <T> T awaitUntil(CompletableFuture<T> future, long deadline, String timeoutCause)
            throws QmpException, InterruptedException {
        try {
            return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new QmpException(
                    Kind.CONNECT, "Failed to negotiate QMP on " + socket + ": " + timeoutCause, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof QmpException q && q.kind() == Kind.TIMEOUT) {
                throw new QmpException(
                        Kind.CONNECT,
                        "Failed to negotiate QMP on " + socket + ": " + timeoutCause,
                        q);
            }
            if (e.getCause() instanceof QmpException q) {
                throw q;
            }
            throw new QmpException(
                    Kind.PROTOCOL,
                    "Failed to negotiate QMP on " + socket + ": " + e.getCause(),
                    e.getCause());
        }
    }

    /**
     * The greeting's {@code "QMP"} object: {@code {"version": {"qemu": {...}, "package": ...},
     * "capabilities": [...]}}.
     */
    public JsonObject greeting() {
        return greeting.join().deepCopy();
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
        CompletableFuture<JsonElement> reply = new CompletableFuture<>();
        if (!pending.add(key, new PendingCalls.Call(command, reply))) {
            return CompletableFuture.failedFuture(disconnected(command, writeFailure));
        }
        CompletableFuture<JsonElement> result = new CompletableFuture<>();
        long sent = System.nanoTime();
        if (stats != null) {
            var unusedCounted =
                    result.whenComplete(
                            (value, error) ->
                                    stats.record(command, System.nanoTime() - sent, error != null));
        }
        // orTimeout uses the JDK's shared delayer thread and cancels its timer once the reply
        // arrives.
        var unused =
                reply.orTimeout(timeoutNanos, TimeUnit.NANOSECONDS)
                        .whenComplete(
                                (value, error) -> {
                                    Throwable cause =
                                            error instanceof CompletionException
                                                            && error.getCause() != null
                                                    ? error.getCause()
                                                    : error;
                                    if (cause == null) {
                                        result.complete(value);
                                    } else if (cause instanceof TimeoutException) {
                                        pending.remove(key); // a late reply is then dropped
                                        result.completeExceptionally(
                                                new QmpException(
                                                        Kind.TIMEOUT,
                                                        "Failed to run QMP command "
                                                                + command
                                                                + ": no reply within "
                                                                + TimeUnit.NANOSECONDS.toMillis(
                                                                        timeoutNanos)
                                                                + " ms",
                                                        null));
                                    } else {
                                        result.completeExceptionally(cause);
                                    }
                                });
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
                fail(key, disconnected(command, e));
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
        if (!greeting.isDone()) {
            acceptGreeting(message, line);
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

    private void acceptGreeting(JsonObject message, String line) throws IOException {
        JsonElement qmp = message == null ? null : message.get("QMP");
        if (qmp == null || !qmp.isJsonObject()) {
            QmpException e =
                    new QmpException(
                            Kind.PROTOCOL,
                            "Failed to negotiate QMP on "
                                    + socket
                                    + ": expected a QMP greeting, got "
                                    + Frames.abbreviate(line),
                            null);
            greeting.completeExceptionally(e);
            throw new IOException(e.getMessage(), e);
        }
        greeting.complete(qmp.getAsJsonObject());
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

    private void fail(String key, QmpException error) {
        PendingCalls.Call call = pending.remove(key);
        if (call != null) {
            call.reply().completeExceptionally(error);
        }
    }

    /**
     * Marks the connection closed and fails every pending call; returns whether the listener is
     * owed onDisconnect.
     */
    private boolean failAll(Throwable cause) {
        PendingCalls.Drained drained = pending.closeAll();
        greeting.completeExceptionally(
                new QmpException(
                        Kind.DISCONNECTED,
                        "Failed to negotiate QMP on " + socket + ": " + describe(cause),
                        cause));
        for (PendingCalls.Call call : drained.calls()) {
            call.reply().completeExceptionally(disconnected(call.command(), cause));
        }
        return drained.wasEstablished();
    }

    private QmpException disconnected(String command, Throwable cause) {
        return new QmpException(
                Kind.DISCONNECTED,
                "Failed to run QMP command " + command + ": " + describe(cause),
                cause);
    }

    private String describe(Throwable cause) {
        if (cause == null) {
            return "connection to " + socket + " was closed";
        }
        String why =
                cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
        return "connection to " + socket + " lost: " + why;
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
