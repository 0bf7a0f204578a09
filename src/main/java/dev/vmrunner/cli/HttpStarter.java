package dev.vmrunner.cli;

import dev.vmrunner.config.HttpAddress;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.qmp.QmpStats;
import dev.vmrunner.status.HttpStatus;
import dev.vmrunner.status.Metrics;
import dev.vmrunner.status.Status;
import dev.vmrunner.supervisor.Supervisor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Starts the HTTP endpoints ({@link HttpStatus}) once QEMU has been started, on a thread of their
 * own: nothing of them runs before QEMU is spawned, so they cost the start nothing, and they are up
 * while the VM is still starting, where {@code /readyz} answers 503. A failure to listen is a
 * warning; the VM runs on.
 */
final class HttpStarter implements Consumer<Status>, AutoCloseable {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private final HttpAddress address;
    private final Supervisor supervisor;
    private final AtomicBoolean begun = new AtomicBoolean();
    private HttpStatus server;
    private boolean closed;

    private HttpStarter(HttpAddress address, Supervisor supervisor) {
        this.address = address;
        this.supervisor = supervisor;
    }

    /**
     * Where to listen: {@code --http} if given, else the configuration's {@code http} key; null for
     * no HTTP.
     *
     * @throws IllegalArgumentException for a bad {@code --http} value
     */
    static HttpAddress address(String option, RunnerConfig config) {
        return option != null ? HttpAddress.parse(option) : config.http();
    }

    /** Serves at {@code address} once the supervisor's QEMU is started; null without address. */
    static HttpStarter watch(Supervisor supervisor, HttpAddress address) {
        if (address == null) {
            return null;
        }
        HttpStarter starter = new HttpStarter(address, supervisor);
        supervisor.watchStatus(starter);
        return starter;
    }

    /** On the loop thread: returns at once. */
    @Override
    public void accept(Status status) {
        if (status.qemuPid() == null || begun.get() || !begun.compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(this::listen, "http-start");
        t.setDaemon(true);
        t.start();
    }

    private void listen() {
        try {
            HttpStatus s =
                    HttpStatus.start(
                            new InetSocketAddress(address.host(), address.port()),
                            supervisor::status,
                            supervisor::loopAnswers,
                            this::counters);
            synchronized (this) {
                if (closed) {
                    s.close();
                    return;
                }
                server = s;
            }
            LOG.info(() -> "Serving /healthz, /readyz, /status and /metrics on http://" + address);
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

    private Metrics.Counters counters() {
        Map<String, Metrics.Command> qmp = new LinkedHashMap<>();
        for (Map.Entry<String, QmpStats.Command> e : supervisor.qmpStats().snapshot().entrySet()) {
            QmpStats.Command c = e.getValue();
            qmp.put(e.getKey(), new Metrics.Command(c.count(), c.seconds(), c.errors()));
        }
        return new Metrics.Counters(
                qmp, supervisor.reconciliations(), supervisor.qmpStats().mergedEvents());
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (server != null) {
            server.close();
        }
    }
}
