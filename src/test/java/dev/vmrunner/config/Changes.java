package dev.vmrunner.config;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Records the watcher's callbacks with their time and thread, for assertions with timeouts. */
final class Changes implements Consumer<byte[]> {
    /** One callback: the content as text, when it arrived (System.nanoTime) and on which thread. */
    record Change(String content, long nanos, Thread thread) {}

    private final LinkedBlockingQueue<Change> queue = new LinkedBlockingQueue<>();

    @Override
    public void accept(byte[] content) {
        queue.add(
                new Change(
                        new String(content, StandardCharsets.UTF_8),
                        System.nanoTime(),
                        Thread.currentThread()));
    }

    /** The next callback; fails if none comes within {@code timeout}. */
    Change next(Duration timeout) throws InterruptedException {
        Change change = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        assertNotNull(change, "no callback within " + timeout);
        return change;
    }

    /** Fails if a callback comes within {@code period}. */
    void assertNone(Duration period) throws InterruptedException {
        Change change = queue.poll(period.toNanos(), TimeUnit.NANOSECONDS);
        assertNull(change, () -> "unexpected callback with " + change.content());
    }
}
