package dev.vmrunner.status;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Answers {@code vmrunner status} on a Unix socket in the runtime directory (readable by the
 * runner's user only: the directory is private). One request line per connection:
 *
 * <ul>
 *   <li>{@code status}: the latest {@link Status} as one line of JSON.
 *   <li>{@code ping}: {@code ok} when the supervisor's loop answers within a second, else {@code
 *       stuck} (for liveness probes).
 *   <li>any other line is handed to the runner's command handler ({@code start}, {@code stop},
 *       {@code stop --force}, {@code reset}: {@code dev.vmrunner.supervisor.power.PowerCommand}),
 *       which answers one line; a line it does not know is an error.
 * </ul>
 *
 * The status is read from the published snapshot, never from the loop, so a busy loop cannot delay
 * it. A few connections are served at once; more wait. A request longer than a line is refused.
 */
public final class StatusServer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("vmrunner");
    private static final int MAX_REQUEST = 320; // a migration URI fits
    private static final int MAX_CLIENTS = 4;

    private final Path socket;
    private final ServerSocketChannel server;
    private final Supplier<Status> status;
    private final BooleanSupplier loopAnswers;
    private final Function<String, String> commands;
    private final Semaphore clients = new Semaphore(MAX_CLIENTS);
    private volatile boolean closed;

    private StatusServer(
            Path socket,
            ServerSocketChannel server,
            Supplier<Status> status,
            BooleanSupplier loopAnswers,
            Function<String, String> commands) {
        this.socket = socket;
        this.server = server;
        this.status = status;
        this.loopAnswers = loopAnswers;
        this.commands = commands;
    }

    /**
     * Listens on {@code socket} (a stale file there is replaced) and serves on a daemon thread.
     *
     * @param loopAnswers true when the supervisor's loop handled a ping in time; called on a
     *     client's thread
     */
    public static StatusServer start(
            Path socket, Supplier<Status> status, BooleanSupplier loopAnswers) throws IOException {
        return start(socket, status, loopAnswers, request -> null);
    }

    /**
     * As {@link #start(Path, Supplier, BooleanSupplier)}, with a handler of the other requests.
     *
     * @param commands answers a request line it knows, null for one it does not know; on a client's
     *     thread: a power command waits a bounded time for the supervisor's loop, a migration
     *     answers when it has ended
     */
    public static StatusServer start(
            Path socket,
            Supplier<Status> status,
            BooleanSupplier loopAnswers,
            Function<String, String> commands)
            throws IOException {
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        StatusServer s = new StatusServer(socket, server, status, loopAnswers, commands);
        Thread acceptor = new Thread(s::accept, "status-server");
        acceptor.setDaemon(true);
        acceptor.start();
        return s;
    }

    private void accept() {
        while (!closed) {
            try {
                SocketChannel client = server.accept();
                clients.acquire();
                Thread t = new Thread(() -> serve(client), "status-client");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (!closed) {
                    LOG.log(Level.WARNING, "Status socket " + socket + " failed: " + e, e);
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | Error e) {
                // No thread for this client (an OutOfMemoryError): it goes unanswered, the next
                // one is served
                clients.release();
                LOG.log(Level.WARNING, "Failed to answer a status client: " + e);
            }
        }
    }

    private void serve(SocketChannel client) {
        try (client) {
            String request = readLine(client);
            String answer =
                    switch (request) {
                        case "status" -> StatusJson.of(status.get()).toString();
                        case "ping" -> loopAnswers.getAsBoolean() ? "ok" : "stuck";
                        default -> command(request);
                    };
            ByteBuffer out = StandardCharsets.UTF_8.encode(answer + "\n");
            while (out.hasRemaining()) {
                client.write(out);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "A status client failed", e);
        } finally {
            clients.release();
        }
    }

    private String command(String request) {
        String answer = commands.apply(request);
        return answer != null
                ? answer
                : "error: unknown request (status, ping, start, stop, reset, migrate)";
    }

    private static String readLine(SocketChannel client) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(MAX_REQUEST);
        while (in.hasRemaining()) {
            if (client.read(in) < 0) {
                break;
            }
            for (int i = 0; i < in.position(); i++) {
                if (in.get(i) == '\n') {
                    return new String(in.array(), 0, i, StandardCharsets.US_ASCII).strip();
                }
            }
        }
        return new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII).strip();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.fine(() -> "Failed to close the status socket: " + e);
        }
    }
}
