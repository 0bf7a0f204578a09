package dev.vmrunner.supervisor.migrate;

import dev.vmrunner.supervisor.live.LiveLoop;
import java.time.Duration;

/**
 * Asks QEMU again and again, one query at a time: {@code every} after each answer, and at once when
 * an event says that something changed (QEMU's {@code MIGRATION} event), so that the end of a
 * migration is acted on without waiting for the next round. Loop thread only.
 */
final class Poller {

    private final LiveLoop loop;
    private final Duration every;
    private final Runnable query;
    private LiveLoop.Timer next;
    private boolean inFlight;
    private boolean again;

    /**
     * @param query sends the query; its answer's handler calls {@link #later} or {@link #stop}
     */
    Poller(LiveLoop loop, Duration every, Runnable query) {
        this.loop = loop;
        this.every = every;
        this.query = query;
    }

    /** Sends the query now. */
    void run() {
        cancelNext();
        inFlight = true;
        query.run();
    }

    /** The answer was handled and the polling goes on. */
    void later() {
        inFlight = false;
        if (again) {
            again = false;
            run();
        } else {
            cancelNext();
            next = loop.schedule(every, this::run);
        }
    }

    /** The answer was handled and the polling ends. */
    void stop() {
        inFlight = false;
        again = false;
        cancelNext();
    }

    /** Something changed: asks at once, or right after the answer on its way. */
    void now() {
        if (inFlight) {
            again = true;
        } else if (next != null) {
            run();
        }
    }

    private void cancelNext() {
        if (next != null) {
            next.cancel();
            next = null;
        }
    }
}
