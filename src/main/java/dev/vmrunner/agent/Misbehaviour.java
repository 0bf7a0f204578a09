package dev.vmrunner.agent;

import dev.vmrunner.agent.AgentException.Kind;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * What the client does about a guest agent that broke a bound of its channel: it is disconnected
 * and not asked again before a backoff (doubling from {@code firstBackoff} to {@link #MAX_BACKOFF},
 * back to the first once it kept the bounds for twice the longest), and the log says so at most
 * once per {@link #LOG_INTERVAL}, with the count of incidents in between. Written by the client's
 * worker thread; {@link #problem()} and {@link #count()} from any thread.
 */
final class Misbehaviour {
    private static final Logger LOG = Logger.getLogger(GuestAgent.class.getName());

    static final Duration MAX_BACKOFF = Duration.ofMinutes(5);
    static final Duration LOG_INTERVAL = Duration.ofMinutes(1);

    private final Duration firstBackoff;
    private final LongSupplier nanoTime;
    private Duration backoff;
    private long retryAt;
    private long lastIncident;
    private long lastLogged;
    private boolean logged;
    private int unlogged;
    private volatile String problem;
    private final AtomicLong count = new AtomicLong();

    /**
     * @param nanoTime the clock of the backoff ({@code System::nanoTime}; tests pass their own)
     */
    Misbehaviour(Duration firstBackoff, LongSupplier nanoTime) {
        this.firstBackoff = firstBackoff;
        this.nanoTime = nanoTime;
        this.backoff = firstBackoff;
    }

    /** The agent broke a bound; the caller has closed the connection. */
    void record(AgentException e) {
        long now = nanoTime.getAsLong();
        if (count.get() > 0 && now - lastIncident > 2 * MAX_BACKOFF.toNanos()) {
            backoff = firstBackoff; // it behaved for long: a new incident starts afresh
        }
        count.incrementAndGet();
        lastIncident = now;
        retryAt = now + backoff.toNanos();
        problem = e.getMessage();
        if (!logged || now - lastLogged >= LOG_INTERVAL.toNanos()) {
            int more = unlogged;
            Duration wait = backoff;
            LOG.warning(
                    () ->
                            e.getMessage()
                                    + "; disconnected, asking again in "
                                    + wait.toSeconds()
                                    + " s"
                                    + (more > 0
                                            ? " (" + more + " more times since the last message)"
                                            : ""));
            logged = true;
            lastLogged = now;
            unlogged = 0;
        } else {
            unlogged++;
        }
        backoff =
                backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0
                        ? MAX_BACKOFF
                        : backoff.multipliedBy(2);
    }

    /** Why {@code command} is not sent now, or null when it may be. */
    AgentException refusal(String command) {
        long left = retryAt - nanoTime.getAsLong();
        if (problem == null || left <= 0) {
            return null;
        }
        return new AgentException(
                Kind.MISBEHAVING,
                "Not running guest agent command "
                        + command
                        + " for "
                        + Math.max(1, left / 1_000_000_000L)
                        + " s more: "
                        + problem,
                null);
    }

    /** The agent answered within the bounds. */
    void answered() {
        problem = null;
    }

    /** What the agent did wrong last, while it has not answered properly since; else null. */
    String problem() {
        return problem;
    }

    /** How often the agent was disconnected for breaking a bound. */
    long count() {
        return count.get();
    }
}
