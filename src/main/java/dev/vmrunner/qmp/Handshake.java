package dev.vmrunner.qmp;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.vmrunner.qmp.QmpException.Kind;
import java.io.IOException;
import java.net.SocketException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The start of a QMP session: opening QEMU's socket (retrying until it listens), the greeting and
 * {@code qmp_capabilities}. The greeting arrives on the connection's reader thread; {@link
 * #negotiate} waits for it on the thread that connects.
 */
final class Handshake {
    private static final long MAX_CONNECT_PAUSE_MILLIS = 50;
    private static final long FINE_POLL_MILLIS = 200;

    private final Path socket;
    private final CompletableFuture<JsonObject> greeting = new CompletableFuture<>();

    Handshake(Path socket) {
        this.socket = socket;
    }

    static SocketChannel openWithRetry(Path socket, Duration timeout, long deadline)
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

    /** Waits for the greeting, then for the reply to {@code qmp_capabilities}. */
    void negotiate(QmpConnection connection, Duration timeout, long deadline)
            throws QmpException, InterruptedException {
        // QEMU accepts a second client but stays silent until the first one leaves, hence the hint.
        awaitUntil(
                greeting,
                deadline,
                "no greeting within " + timeout.toMillis() + " ms (is another client connected?)");
        Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
        awaitUntil(
                connection.execute("qmp_capabilities", null, left),
                deadline,
                "no reply to qmp_capabilities within " + timeout.toMillis() + " ms");
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

    /** True once the greeting arrived or the connection closed before it. */
    boolean greetingDone() {
        return greeting.isDone();
    }

    /** The greeting's {@code "QMP"} object; waits for it. */
    JsonObject greeting() {
        return greeting.join();
    }

    /** Takes the first line QEMU sends; anything but a greeting ends the connection. */
    void acceptGreeting(JsonObject message, String line) throws IOException {
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

    /** The connection closed: whoever waits for the greeting gets {@code error}. */
    void greetingFailed(QmpException error) {
        greeting.completeExceptionally(error);
    }
}
