package dev.vmrunner.supervisor.live;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * How many live changes ended in each outcome, for metrics. Counted on the loop thread, read by
 * any. The label is the outcome's {@link Outcome#kind()}, one of a fixed few, so a message's text
 * never becomes a label.
 */
public final class Outcomes {

    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    void count(Outcome outcome) {
        counts.computeIfAbsent(outcome.kind(), k -> new LongAdder()).increment();
    }

    /** The counts so far, by outcome. */
    public Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((kind, n) -> out.put(kind, n.sum()));
        return out;
    }
}
