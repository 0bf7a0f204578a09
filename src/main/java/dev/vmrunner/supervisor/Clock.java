package dev.vmrunner.supervisor;

import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The supervisor's time source, monotonic nanoseconds as {@link System#nanoTime()}, and the one
 * place its loop waits. Tests pass a clock they move themselves, whose loop waits for events only:
 * a 900 s powerdown timeout is tested in a millisecond, and no test waits on real time.
 */
@FunctionalInterface
public interface Clock {

    Clock SYSTEM = System::nanoTime;

    long nanoTime();

    /**
     * Wall-clock time, epoch milliseconds: only for what outlives this process (the deadline of a
     * stop a later runner goes on with).
     */
    default long wallMillis() {
        return System.currentTimeMillis();
    }

    /**
     * The loop's wait: takes the next event from {@code events}, waiting at most until this clock
     * reads {@code due} (without a bound when there is none); null when that time came first. This
     * clock's time passes by itself, so it waits in real time.
     */
    default Event next(BlockingQueue<Event> events, OptionalLong due) throws InterruptedException {
        if (due.isEmpty()) {
            return events.take();
        }
        return events.poll(Math.max(0, due.getAsLong() - nanoTime()), TimeUnit.NANOSECONDS);
    }
}
