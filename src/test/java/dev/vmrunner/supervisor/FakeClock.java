package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock the test moves, which owns its loop's waiting (OkHttp's {@code TaskFaker} is the model):
 * the loop waits for events only, never on real time; a move wakes it so that it runs what fell
 * due, and {@link #idle} returns once it has run everything queued and due. Real time plays no
 * part: a test may take a minute on a busy machine and still see the same order of things.
 */
final class FakeClock implements Clock {

    /** A bound on waiting for the loop, generous: reached only when the loop is stuck. */
    static final Duration WAIT = Duration.ofSeconds(60);

    /** Wakes the loop after a move: it looks at its timers before the next event. */
    private static final Event WAKE = new Event.Continuation(() -> {});

    /** How many barriers in a row may find more behind them before the loop counts as busy. */
    private static final int MAX_ROUNDS = 1_000;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final CompletableFuture<BlockingQueue<Event>> events = new CompletableFuture<>();

    @Override
    public long nanoTime() {
        return now.get();
    }

    /** The wall clock moves with the monotonic one, from a fixed epoch time. */
    @Override
    public long wallMillis() {
        return 1_700_000_000_000L + now.get() / 1_000_000;
    }

    /** Time moves only when the test moves it: wait for the next event, however long. */
    @Override
    public Event next(BlockingQueue<Event> queue, OptionalLong due) throws InterruptedException {
        events.complete(queue);
        return queue.take();
    }

    /** Moves the clock; the loop runs the timers that fell due before its next event. */
    void advance(Duration by) {
        now.addAndGet(by.toNanos());
        BlockingQueue<Event> queue = events.getNow(null);
        if (queue != null) {
            queue.add(WAKE);
        }
    }

    /**
     * A barrier: returns once the loop has run every event and timer that was queued or due, and
     * what those queued in turn, or once {@code ended} completed (a loop that finished runs no
     * more). What other threads are still to post (a reply on its way) is not covered.
     */
    void idle(CompletableFuture<?> ended) throws InterruptedException {
        BlockingQueue<Event> queue = await(events, ended, "the loop to start waiting");
        for (int round = 0; round < MAX_ROUNDS && queue != null; round++) {
            CompletableFuture<Boolean> empty = new CompletableFuture<>();
            queue.add(new Event.Continuation(() -> empty.complete(queue.isEmpty())));
            if (!Boolean.FALSE.equals(await(empty, ended, "the loop to run a barrier"))) {
                return;
            }
        }
        if (queue != null) {
            fail("the loop never became idle: events keep coming");
        }
    }

    /** The value of {@code future}, or null once {@code ended} completed first. */
    private static <T> T await(CompletableFuture<T> future, CompletableFuture<?> ended, String what)
            throws InterruptedException {
        try {
            CompletableFuture.anyOf(future, ended).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            fail("timed out after " + WAIT.toSeconds() + " s waiting for " + what);
        } catch (ExecutionException e) {
            throw new AssertionError("failed waiting for " + what, e.getCause());
        }
        return future.getNow(null);
    }
}
