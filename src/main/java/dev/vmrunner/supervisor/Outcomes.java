package dev.vmrunner.supervisor;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * How many live changes ended in each outcome, for metrics. Counted on the loop thread, read by
 * any. The outcome is the first word of what was reported ("applied (VM reset)" counts as applied),
 * one of a fixed few, so a message's text never becomes a label.
 */
final class Outcomes {

    static final List<String> KINDS = List.of("applied", "pending", "ignored", "rejected");

    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    void count(String outcome) {
        counts.computeIfAbsent(kindOf(outcome), k -> new LongAdder()).increment();
    }

    static String kindOf(String outcome) {
        String word = outcome.toLowerCase(Locale.ROOT).split("[^a-z]", 2)[0];
        return KINDS.contains(word) ? word : "other";
    }

    /** The counts so far, by outcome. */
    Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((kind, n) -> out.put(kind, n.sum()));
        return out;
    }
}
