package dev.vmrunner.supervisor;

import dev.vmrunner.supervisor.live.LiveLoop;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one loop that owns the VM's state. Any thread may {@link #post} an event; timers and event
 * handlers run on the loop's thread only, so the state needs no locks. When nothing is due the
 * thread blocks in its {@link Clock#next clock's wait}: no CPU is used while idle.
 */
final class Loop implements LiveLoop {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private final Clock clock;
    private final LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>();
    private final PriorityQueue<Timer> timers =
            new PriorityQueue<>(
                    (a, b) ->
                            a.due != b.due
                                    ? Long.compare(a.due - b.due, 0)
                                    : Long.compare(a.order, b.order));
    private long sequence;
    private Runnable afterEach = () -> {};
    private Runnable onHeapExhausted = () -> {};

    /**
     * Heap kept in reserve for the loop: freed at the first OutOfMemoryError, so that the loop can
     * log, publish and stop the VM gracefully; taken again a minute later if the heap has room.
     */
    private static final int RESERVE_BYTES = 512 * 1024;

    private static final Duration REARM_AFTER = Duration.ofMinutes(1);

    private byte[] reserve = new byte[RESERVE_BYTES];
    private boolean exhausted;

    /** A scheduled action; cancel it to keep it from running. */
    static final class Timer implements LiveLoop.Timer {
        private final long due;
        private final long order;
        private final Runnable action;
        private boolean cancelled;

        private Timer(long due, long order, Runnable action) {
            this.due = due;
            this.order = order;
            this.action = action;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    Loop(Clock clock) {
        this.clock = clock;
    }

    Clock clock() {
        return clock;
    }

    @Override
    public long nanoTime() {
        return clock.nanoTime();
    }

    /** Runs after every event and timer (the supervisor publishes its status there). */
    void afterEach(Runnable action) {
        afterEach = action;
    }

    /**
     * Runs once on the loop thread when the heap is exhausted for good: an OutOfMemoryError in the
     * loop while its reserve is spent (the supervisor then stops the VM gracefully).
     */
    void onHeapExhausted(Runnable action) {
        onHeapExhausted = action;
    }

    /** Posts an event; callable from any thread. */
    void post(Event event) {
        queue.add(event);
    }

    /** Runs the completion of an asynchronous call on the loop thread. */
    @Override
    public <T> void whenDone(CompletableFuture<T> future, BiConsumer<T, Throwable> then) {
        var unused =
                future.whenComplete(
                        (result, error) ->
                                post(
                                        new Event.Continuation(
                                                () -> then.accept(result, unwrap(error)))));
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null
                ? error.getCause()
                : error;
    }

    /** Runs the action on the loop thread after the delay. Call from the loop thread only. */
    @Override
    public Timer schedule(Duration delay, Runnable action) {
        Timer timer = new Timer(clock.nanoTime() + delay.toNanos(), sequence++, action);
        timers.add(timer);
        return timer;
    }

    /** Handles events and timers until {@code finished} is true. */
    void run(Consumer<Event> handler, BooleanSupplier finished) throws InterruptedException {
        while (!finished.getAsBoolean()) {
            if (runDueTimer()) {
                continue;
            }
            Timer next = timers.peek();
            Event event =
                    clock.next(
                            queue, next == null ? OptionalLong.empty() : OptionalLong.of(next.due));
            if (event != null) {
                guarded(() -> handler.accept(event), event);
                guarded(afterEach, "the status");
            }
        }
    }

    private boolean runDueTimer() {
        Timer next = timers.peek();
        if (next == null || next.due - clock.nanoTime() > 0) {
            return false;
        }
        timers.poll();
        if (!next.cancelled) {
            guarded(next.action, "a timer");
            guarded(afterEach, "the status");
        }
        return true;
    }

    /**
     * A bug in one handler must not end the loop: that would take QEMU down with the runner
     * (killed, not powered down). It is logged and the VM keeps running. That includes an {@link
     * Error}: a StackOverflowError or an OutOfMemoryError in one handler leaves the loop's own
     * state intact, and the guest is better served by a runner that goes on than by one that ends.
     */
    @SuppressWarnings("CatchingUnchecked") // see above: nothing may end the loop
    private void guarded(Runnable action, Object what) {
        try {
            action.run();
        } catch (OutOfMemoryError e) {
            outOfMemory(e, what);
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "Internal error while handling " + what + ": " + e, e);
        }
    }

    /**
     * The first OutOfMemoryError frees the reserve and the loop goes on; a second one before the
     * reserve could be taken again means the heap is exhausted for good.
     */
    @SuppressWarnings("CatchingUnchecked") // even the way out must not end the loop
    private void outOfMemory(OutOfMemoryError e, Object what) {
        boolean hadReserve = reserve != null;
        reserve = null; // first, so that logging has room
        try {
            LOG.severe("Out of heap while handling " + what + ": " + e);
            if (hadReserve) {
                schedule(REARM_AFTER, this::rearm);
            } else if (!exhausted) {
                exhausted = true;
                LOG.severe("The runner's heap is exhausted; stopping the VM gracefully");
                onHeapExhausted.run();
            }
        } catch (RuntimeException | Error again) {
            // nothing left to say it with; the next event tries again
        }
    }

    private void rearm() {
        reserve = new byte[RESERVE_BYTES]; // an OutOfMemoryError here counts as the second
        LOG.info("The runner's heap has room again");
    }
}
