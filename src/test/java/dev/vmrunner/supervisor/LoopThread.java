package dev.vmrunner.supervisor;

import dev.vmrunner.supervisor.live.LiveLoop;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A real {@link Loop} on a fake clock, run on a thread of its own, for the tests of the packages
 * below the supervisor ({@code supervisor.live}): they reach it as a {@link LiveLoop} and
 * synchronise by barriers, never by sleeping.
 */
public final class LoopThread implements AutoCloseable {
    private final FakeClock clock = new FakeClock();
    private final Loop loop = new Loop(clock);
    private final Duration wait;
    private final Thread thread;
    private volatile boolean closed;

    /**
     * @param wait how long a barrier waits for the loop at most
     */
    public LoopThread(String name, Duration wait) {
        this.wait = wait;
        this.thread =
                new Thread(
                        () -> {
                            try {
                                loop.run(
                                        event -> ((Event.Continuation) event).action().run(),
                                        () -> closed);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        name);
        thread.setDaemon(true);
        thread.start();
    }

    /** The loop, as the live-change code sees it. */
    public LiveLoop loop() {
        return loop;
    }

    /** Runs {@code action} on the loop and returns its result, once everything before it ran. */
    public <T> T onLoop(Supplier<T> action) {
        CompletableFuture<T> result = new CompletableFuture<>();
        loop.post(
                new Event.Continuation(
                        () -> {
                            try {
                                result.complete(action.get());
                            } catch (RuntimeException | Error e) {
                                result.completeExceptionally(e);
                                throw e;
                            }
                        }));
        try {
            return result.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            throw new AssertionError("the loop did not run the action: " + e, e);
        }
    }

    /** Moves the fake clock on, then waits until the loop has run what became due. */
    public void advance(Duration by) {
        clock.advance(by);
        onLoop(() -> null); // the loop may have taken this event before it looked at the clock,
        onLoop(() -> null); // but it runs due timers before it takes the next one
    }

    @Override
    public void close() {
        closed = true;
        loop.post(new Event.Continuation(() -> {}));
        try {
            thread.join(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
