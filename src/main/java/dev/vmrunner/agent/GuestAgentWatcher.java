package dev.vmrunner.agent;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.logging.Logger;

/**
 * Watches the guest through its agent: after {@link #start()} (the VM was continued) or {@link
 * #reset()} it asks the agent every {@code probeInterval} until it answers, which means the guest
 * has <em>booted</em>; from then on it refreshes the facts every {@code refreshInterval}. When the
 * agent stops answering (killed, restarted, the guest going down) it reports that once and probes
 * again; the client re-syncs or reconnects by itself.
 *
 * <p>Single-threaded: every method must be called, and every listener method is called, on the
 * owner's thread, the one {@link Scheduler} runs tasks on. The agent's answers arrive on its own
 * thread and are handed over through the scheduler, so nothing here blocks the owner.
 */
public final class GuestAgentWatcher {
    private static final Logger LOG = Logger.getLogger(GuestAgentWatcher.class.getName());

    /** Runs tasks on the owner's thread, e.g. the supervisor's event loop. */
    public interface Scheduler {
        /** Runs {@code task} on the owner's thread after {@code delay} (zero: soon). */
        Cancellable schedule(Duration delay, Runnable task);
    }

    /** Cancels a scheduled task; cancelling one that ran already does nothing. */
    public interface Cancellable {
        void cancel();
    }

    /** Told on the owner's thread. */
    public interface Listener {
        /**
         * The first answer after {@link #start()} or {@link #reset()}.
         *
         * @param sinceStart time from start()/reset() to the answer
         */
        void booted(GuestInfo info, Duration sinceStart);

        /** A later refresh, or the first answer after the agent was unreachable. */
        void updated(GuestInfo info);

        /** The agent stopped answering after it had answered (once per outage). */
        void unreachable(AgentException cause);
    }

    private final GuestAgent agent;
    private final Scheduler scheduler;
    private final Listener listener;
    private final Duration probeInterval;
    private final Duration refreshInterval;
    private long generation;
    private Cancellable timer;
    private Instant startedAt;
    private Instant bootedAt;
    private boolean reachable;
    private GuestInfo info;

    public GuestAgentWatcher(
            GuestAgent agent,
            Scheduler scheduler,
            Listener listener,
            Duration probeInterval,
            Duration refreshInterval) {
        this.agent = Objects.requireNonNull(agent, "agent");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.probeInterval = probeInterval;
        this.refreshInterval = refreshInterval;
    }

    /** The VM runs (after {@code cont}): not booted yet; probe now. */
    public void start() {
        stop();
        startedAt = Instant.now();
        ask(generation);
    }

    /** The VM was reset: the guest boots again. */
    public void reset() {
        start();
    }

    /**
     * Asks now rather than at the next refresh, e.g. because the guest opened the agent's port
     * again (the agent restarted). Does nothing while a question is on its way or when stopped.
     */
    public void askNow() {
        if (timer != null) {
            timer.cancel();
            ask(generation);
        }
    }

    /** Stops watching (VM stopped); answers still on their way are ignored. */
    public void stop() {
        generation++;
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        bootedAt = null;
        reachable = false;
        info = null;
    }

    /** True once the agent answered after the last start or reset. */
    public boolean booted() {
        return bootedAt != null;
    }

    public Optional<Instant> bootedAt() {
        return Optional.ofNullable(bootedAt);
    }

    /** Whether the last question was answered. */
    public boolean reachable() {
        return reachable;
    }

    /** The latest facts, if the agent ever answered since the last start or reset. */
    public Optional<GuestInfo> info() {
        return Optional.ofNullable(info);
    }

    private void ask(long gen) {
        timer = null;
        // guest-get-osinfo first: if nobody answers, the other questions would only time out too
        CompletableFuture<OsInfo> os = agent.osInfo();
        var unused =
                os.whenComplete(
                        (v, e) -> scheduler.schedule(Duration.ZERO, () -> osAnswered(gen, os)));
    }

    private void osAnswered(long gen, CompletableFuture<OsInfo> os) {
        if (gen != generation) {
            return; // stopped or restarted meanwhile
        }
        AgentException unreachable = unreachable(os);
        if (unreachable != null) {
            if (reachable) {
                reachable = false;
                LOG.info(() -> "Guest agent stopped answering: " + unreachable.getMessage());
                listener.unreachable(unreachable);
            }
            timer = scheduler.schedule(probeInterval, () -> ask(gen));
            return;
        }
        CompletableFuture<String> host = agent.hostName();
        CompletableFuture<GuestTimeZone> zone = agent.timeZone();
        CompletableFuture<List<GuestInterface>> nics = agent.networkInterfaces();
        var unused =
                CompletableFuture.allOf(
                                host.exceptionally(e -> null),
                                zone.exceptionally(e -> null),
                                nics.exceptionally(e -> null))
                        .whenComplete(
                                (v, e) ->
                                        scheduler.schedule(
                                                Duration.ZERO,
                                                () -> answered(gen, os, host, zone, nics)));
    }

    private void answered(
            long gen,
            CompletableFuture<OsInfo> os,
            CompletableFuture<String> host,
            CompletableFuture<GuestTimeZone> zone,
            CompletableFuture<List<GuestInterface>> nics) {
        if (gen != generation) {
            return;
        }
        GuestInfo now =
                new GuestInfo(value(os), value(host), value(zone), value(nics), Instant.now());
        boolean first = bootedAt == null;
        boolean back = !reachable;
        reachable = true;
        info = now;
        if (first) {
            bootedAt = now.collectedAt();
            Duration since = Duration.between(startedAt, bootedAt);
            LOG.info(
                    () ->
                            "Guest booted ("
                                    + since.toMillis() / 1000.0
                                    + " s, guest agent answered): "
                                    + now.describe());
            listener.booted(now, since);
        } else {
            if (back) {
                LOG.info(() -> "Guest agent answers again: " + now.describe());
            }
            listener.updated(now);
        }
        timer = scheduler.schedule(refreshInterval, () -> ask(gen));
    }

    /** The failure that means nobody answered, or null if the agent answered (even an error). */
    private static AgentException unreachable(CompletableFuture<?> first) {
        Throwable e = first.handle((v, t) -> t).join();
        if (e instanceof CompletionException c && c.getCause() != null) {
            e = c.getCause();
        }
        if (e == null) {
            return null;
        }
        if (e instanceof AgentException a && a.kind() == AgentException.Kind.ERROR_REPLY) {
            return null;
        }
        return e instanceof AgentException a
                ? a
                : new AgentException(AgentException.Kind.PROTOCOL, String.valueOf(e), e);
    }

    private static <T> T value(CompletableFuture<T> f) {
        return f.handle((v, t) -> t == null ? v : null).join();
    }
}
