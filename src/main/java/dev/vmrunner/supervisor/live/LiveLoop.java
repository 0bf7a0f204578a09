package dev.vmrunner.supervisor.live;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * What live changes use of the supervisor's loop: completions and timers run on its thread, and its
 * clock. The supervisor's {@code Loop} implements it, so this package never names the supervisor.
 */
public interface LiveLoop {

    /** Runs the completion of an asynchronous call on the loop thread. */
    <T> void whenDone(CompletableFuture<T> future, BiConsumer<T, Throwable> then);

    /** Runs the action on the loop thread after the delay. Call from the loop thread only. */
    Timer schedule(Duration delay, Runnable action);

    /** The loop clock's time in nanoseconds, as {@link System#nanoTime} (a test's clock moves). */
    long nanoTime();

    /** A scheduled action; cancel it to keep it from running. */
    interface Timer {

        /** Keeps the action from running. */
        void cancel();
    }
}
