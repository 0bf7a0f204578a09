package dev.vmrunner.supervisor;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A clock the test moves; the loop sees the new time within a millisecond. */
final class FakeClock implements Clock {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Override
    public long nanoTime() {
        return now.get();
    }

    void advance(Duration by) {
        now.addAndGet(by.toNanos());
    }
}
