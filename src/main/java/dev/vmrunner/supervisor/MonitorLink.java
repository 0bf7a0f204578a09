package dev.vmrunner.supervisor;

import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.QmpConnection;
import dev.vmrunner.qmp.QmpEvent;
import dev.vmrunner.qmp.QmpStats;
import dev.vmrunner.qmp.VmEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The runner's QMP connection to QEMU. It is made off the loop (QEMU creates the socket shortly
 * after it starts) and made again after an unexpected loss while QEMU lives: without it the runner
 * could neither press the power button nor apply a change. Its events reach the loop typed. Used on
 * the loop thread only, apart from the connector thread, which only posts.
 */
final class MonitorLink {

    private static final Duration RECONNECT_PAUSE = Duration.ofSeconds(1);

    private final Loop loop;
    private final Path socket;
    private final Timeouts timeouts;
    private final QmpStats stats;
    private final EventGate events;
    private QmpConnection connection;
    private Qmp qmp;
    private boolean connecting;
    private boolean closed;

    MonitorLink(Loop loop, Path socket, Timeouts timeouts, QmpStats stats) {
        this.stats = stats;
        this.loop = loop;
        this.socket = socket;
        this.timeouts = timeouts;
        this.events = new EventGate(loop, stats);
    }

    /** Connects in the background; {@link Event.QmpReady} or a failure follows on the loop. */
    void connect() {
        if (connecting || closed) {
            return;
        }
        connecting = true;
        Thread connector = new Thread(this::connectNow, "qmp-connect");
        connector.setDaemon(true);
        connector.start();
    }

    private void connectNow() {
        // The listener learns its connection once connect() has returned; a loss before that
        // is seen by ready() as a connection that is not open.
        AtomicReference<QmpConnection> self = new AtomicReference<>();
        try {
            QmpConnection c =
                    QmpConnection.connect(
                            socket,
                            timeouts.qmpConnect(),
                            new QmpConnection.Listener() {
                                @Override
                                public void onEvent(QmpEvent event) {
                                    events.offer(VmEvent.of(event));
                                }

                                @Override
                                public void onDisconnect(Throwable cause) {
                                    loop.post(new Event.QmpClosed(self.get(), cause));
                                }
                            },
                            stats);
            self.set(c);
            loop.post(new Event.QmpReady(c));
        } catch (Exception e) {
            loop.post(new Event.QmpConnectFailed(e));
        }
    }

    /**
     * A connection is ready; returns the façade, or null if the link was closed meanwhile or the
     * connection was lost at once (the caller then connects again while QEMU lives).
     */
    Qmp ready(QmpConnection c) {
        connecting = false;
        if (closed) {
            c.close();
            return null;
        }
        if (!c.isOpen()) {
            return null;
        }
        connection = c;
        qmp = new Qmp(c, timeouts.qmpCommand(), timeouts.qmpSlowCommand());
        return qmp;
    }

    void connectFailed() {
        connecting = false;
    }

    /**
     * A connection closed. Returns true when it was the current one and closed unexpectedly, so the
     * caller may decide to connect again ({@link #reconnectLater}).
     */
    boolean closed(QmpConnection c, Throwable cause) {
        if (c != connection) {
            return false; // an earlier connection, or one that never became current
        }
        connection = null;
        qmp = null;
        return cause != null && !closed;
    }

    void reconnectLater() {
        loop.schedule(RECONNECT_PAUSE, this::connect);
    }

    /** The façade, or null while there is no connection. */
    Qmp qmp() {
        return qmp;
    }

    /**
     * True while the runner has a connection whose closing it has not yet seen: QEMU's last events
     * may still arrive on it.
     */
    boolean hasConnection() {
        return connection != null;
    }

    boolean isOpen() {
        return connection != null && connection.isOpen();
    }

    /** A fresh start in the same runner: the link may connect again (to the new QEMU). */
    void reopen() {
        closed = false;
        connecting = false;
    }

    /** Closes the connection until {@link #reopen}; no reconnect follows. */
    void close() {
        closed = true;
        if (connection != null) {
            connection.close();
            connection = null;
            qmp = null;
        }
    }
}
