package dev.vmrunner.supervisor;

import java.time.Duration;

/**
 * The join that opens the one route to the end ({@link Teardown}). QEMU's part of a run is over
 * when both hold: its process is gone, and its monitor has closed (QEMU's last events, SHUTDOWN
 * among them, arrive before the close) or a short grace has passed. With no QEMU to wait for (none
 * was started, or one that could not be adopted is left running) it is over at once. Completes once
 * and posts one {@link Event.QemuEnded}. Loop thread only.
 */
final class QemuEnd {

    /** How long QEMU's last events may take after its exit when its monitor does not close. */
    static final Duration LAST_EVENTS = Duration.ofMillis(500);

    private final Loop loop;
    private final MonitorLink monitor;
    private boolean processGone;
    private Loop.Timer grace;
    private boolean complete;

    QemuEnd(Loop loop, MonitorLink monitor) {
        this.loop = loop;
        this.monitor = monitor;
    }

    /** QEMU's process has exited. */
    void processGone() {
        processGone = true;
        if (!monitor.hasConnection()) {
            complete();
        } else if (grace == null) {
            grace = loop.schedule(LAST_EVENTS, this::complete);
        }
    }

    /** A monitor connection closed; counts once QEMU's process is gone. */
    void monitorClosed() {
        if (processGone && !monitor.hasConnection()) {
            complete();
        }
    }

    /** There is no QEMU of this runner's to wait for. */
    void nothingToWaitFor() {
        complete();
    }

    private void complete() {
        if (complete) {
            return;
        }
        complete = true;
        if (grace != null) {
            grace.cancel();
        }
        loop.post(new Event.QemuEnded());
    }
}
