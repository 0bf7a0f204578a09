package dev.vmrunner.supervisor;

import dev.vmrunner.config.HttpAddress;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.qmp.QmpStats;
import dev.vmrunner.status.HttpStatus;
import dev.vmrunner.status.Metrics;
import dev.vmrunner.status.Status;
import dev.vmrunner.status.StatusServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Both ways to ask a runner how its VM is, started and closed here: the status socket ({@link
 * StatusServer}, for {@code vmrunner status}) from the start of the run, and the HTTP endpoints
 * ({@link HttpStatus}, {@code --http} or the {@code http} key) once QEMU has been started, so that
 * they cost the start nothing and are up while the VM still starts ({@code /readyz} answers 503).
 * Each starts on a thread of its own; a failure to listen is a warning and the VM runs on.
 */
final class StatusServers implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private final Supplier<Status> status;
    private final BooleanSupplier loopAnswers;
    private final Function<String, String> commands;
    private final Supplier<Metrics.Counters> counters;
    private HttpAddress http;
    private boolean httpBegun;
    private StatusServer socketServer;
    private HttpStatus httpServer;
    private boolean closed;

    StatusServers(
            Supplier<Status> status,
            BooleanSupplier loopAnswers,
            Function<String, String> commands,
            QmpStats qmpStats,
            Supplier<Map<String, Long>> reconciliations) {
        this.status = status;
        this.loopAnswers = loopAnswers;
        this.commands = commands;
        this.counters = () -> counters(qmpStats, reconciliations.get());
    }

    /** Serves HTTP at {@code address} once QEMU runs; null for no HTTP. Before the run. */
    synchronized void http(HttpAddress address) {
        this.http = address;
    }

    /** Opens the status socket in {@code runtimeDir}, off the caller's thread. */
    void serveSocket(Path runtimeDir) {
        startThread(
                "status-start",
                () -> {
                    try {
                        StatusServer s =
                                StatusServer.start(
                                        runtimeDir.resolve(RuntimeFiles.STATUS),
                                        status,
                                        loopAnswers,
                                        commands);
                        keep(s);
                    } catch (IOException e) {
                        LOG.warning(
                                () ->
                                        "Failed to open the status socket: "
                                                + e.getMessage()
                                                + "; 'vmrunner status' cannot ask this runner");
                    }
                });
    }

    /**
     * On the loop thread with every status: starts HTTP once QEMU has a pid (or the VM is stopped
     * on purpose). Returns at once.
     */
    synchronized void published(Status current) {
        // A VM that begins stopped has no QEMU: its probes are answered all the same.
        boolean begun = current.qemuPid() != null || Status.STOPPED.equals(current.state());
        if (http == null || httpBegun || !begun) {
            return;
        }
        httpBegun = true;
        HttpAddress address = http;
        startThread("http-start", () -> listen(address));
    }

    private void listen(HttpAddress address) {
        try {
            HttpStatus s =
                    HttpStatus.start(
                            new InetSocketAddress(address.host(), address.port()),
                            status,
                            loopAnswers,
                            counters);
            if (keep(s)) {
                LOG.info(
                        () ->
                                "Serving /healthz, /readyz, /status and /metrics on http://"
                                        + address);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warning(
                    () ->
                            "Failed to serve HTTP on "
                                    + address
                                    + ": "
                                    + e.getMessage()
                                    + "; the VM runs without /healthz, /readyz and /metrics");
        }
    }

    /** Keeps a server that has started, or closes it when the run has ended meanwhile. */
    private synchronized boolean keep(AutoCloseable server) {
        if (closed) {
            closeQuietly(server);
            return false;
        }
        if (server instanceof StatusServer s) {
            socketServer = s;
        } else if (server instanceof HttpStatus h) {
            httpServer = h;
        }
        return true;
    }

    private static Metrics.Counters counters(QmpStats qmpStats, Map<String, Long> reconciliations) {
        Map<String, Metrics.Command> qmp = new LinkedHashMap<>();
        for (Map.Entry<String, QmpStats.Command> e : qmpStats.snapshot().entrySet()) {
            QmpStats.Command c = e.getValue();
            qmp.put(e.getKey(), new Metrics.Command(c.count(), c.seconds(), c.errors()));
        }
        return new Metrics.Counters(qmp, reconciliations, qmpStats.mergedEvents());
    }

    private static void startThread(String name, Runnable action) {
        Thread t = new Thread(action, name);
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(AutoCloseable server) {
        try {
            server.close();
        } catch (Exception e) {
            LOG.fine(() -> "Failed to close a status server: " + e);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (socketServer != null) {
            socketServer.close();
        }
        if (httpServer != null) {
            httpServer.close();
        }
    }
}
