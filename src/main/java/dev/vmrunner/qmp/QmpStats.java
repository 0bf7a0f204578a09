package dev.vmrunner.qmp;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts of the QMP commands a connection ran, for metrics: per command name, how many completed,
 * their total time, and how many failed (error reply, timeout or disconnect). Updated by the
 * threads that complete replies, read by any; the set of names is the runner's own commands, so it
 * stays small.
 */
public final class QmpStats {

    /** One command's figures: completed calls (failed ones included) and their total seconds. */
    public record Command(long count, double seconds, long errors) {}

    private static final class Counters {
        final LongAdder count = new LongAdder();
        final LongAdder nanos = new LongAdder();
        final LongAdder errors = new LongAdder();
    }

    private final Map<String, Counters> byCommand = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> merged = new ConcurrentHashMap<>();

    /**
     * An event of this name was merged into a later one (a storm from the guest). Names are QEMU's
     * event names, a small set.
     */
    public void eventMerged(String event) {
        merged.computeIfAbsent(event, name -> new LongAdder()).increment();
    }

    /** Events merged so far, by event name (sorted). */
    public Map<String, Long> mergedEvents() {
        Map<String, Long> out = new TreeMap<>();
        merged.forEach((name, n) -> out.put(name, n.sum()));
        return out;
    }

    /** Counts {@code command}, timed from now, once {@code result} completes. */
    void recordOnCompletion(String command, CompletableFuture<?> result) {
        long sent = System.nanoTime();
        var unusedCounted =
                result.whenComplete(
                        (value, error) -> record(command, System.nanoTime() - sent, error != null));
    }

    private void record(String command, long nanos, boolean failed) {
        Counters c = byCommand.computeIfAbsent(command, name -> new Counters());
        c.count.increment();
        c.nanos.add(nanos);
        if (failed) {
            c.errors.increment();
        }
    }

    /** The figures so far, by command name (sorted). */
    public Map<String, Command> snapshot() {
        Map<String, Command> out = new TreeMap<>();
        byCommand.forEach(
                (name, c) ->
                        out.put(
                                name,
                                new Command(c.count.sum(), c.nanos.sum() / 1e9, c.errors.sum())));
        return out;
    }
}
