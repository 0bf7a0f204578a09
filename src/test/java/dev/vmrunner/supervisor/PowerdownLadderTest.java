package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmrunner.supervisor.claim.RunnerState.Stopping;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The ladder's rungs on the fake clock, where the supervisor's tests cannot reach. */
class PowerdownLadderTest {

    private static final Duration FIVE = Duration.ofSeconds(5);

    private final FakeClock clock = new FakeClock();
    private final Loop loop = new Loop(clock);
    private final CompletableFuture<Void> never = new CompletableFuture<>();
    private final AtomicInteger presses = new AtomicInteger();
    private final AtomicInteger terminations = new AtomicInteger();
    private final List<Stopping> kept = new ArrayList<>();
    private final Thread thread =
            new Thread(
                    () -> {
                        try {
                            loop.run(
                                    event -> {
                                        if (event instanceof Event.Continuation c) {
                                            c.action().run();
                                        }
                                    },
                                    () -> false);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
    private PowerdownLadder ladder;

    private final PowerdownLadder.Rungs rungs =
            new PowerdownLadder.Rungs() {
                @Override
                public void pressPowerButton() {
                    if (presses.incrementAndGet() == 1) {
                        throw new IllegalStateException("the monitor went away");
                    }
                }

                @Override
                public void terminateQemu() {
                    terminations.incrementAndGet();
                }

                @Override
                public void killQemu() {}
            };

    @AfterEach
    void stopLoop() {
        thread.interrupt();
    }

    /** Makes the ladder on the loop from the stop {@code make} returns, and runs {@code then}. */
    private void onLoop(Function<Loop, Stopping> make, boolean resume) throws Exception {
        thread.setDaemon(true);
        thread.start();
        loop.post(
                new Event.Continuation(
                        () -> {
                            ladder =
                                    new PowerdownLadder(
                                            loop, rungs, make.apply(loop), FIVE, FIVE, kept::add);
                            if (resume) {
                                ladder.resume();
                            } else {
                                ladder.start();
                            }
                        }));
        clock.idle(never);
    }

    private void advance(long seconds) throws InterruptedException {
        clock.advance(Duration.ofSeconds(seconds));
        clock.idle(never);
    }

    @Test
    void aPressThatFailsDoesNotEndThePressesOrTheLadder() throws Exception {
        onLoop(l -> PowerdownLadder.askedNow(l, Duration.ofSeconds(20)), false);
        assertEquals(1, presses.get());
        advance(5);
        assertEquals(2, presses.get());
        assertEquals(0, terminations.get());
        advance(16);
        assertEquals(1, terminations.get());
    }

    /** What a later runner needs: when the stop was asked and its deadline, on the wall clock. */
    @Test
    void theStopAndEveryMoveOfItsDeadlineAreKept() throws Exception {
        long asked = clock.wallMillis();
        onLoop(l -> PowerdownLadder.askedNow(l, Duration.ofSeconds(40)), false);
        assertEquals(List.of(new Stopping(asked, asked + 40_000)), kept);
        advance(10);
        loop.post(new Event.Continuation(() -> ladder.setTimeout(Duration.ofSeconds(20))));
        clock.idle(never);
        assertEquals(new Stopping(asked, asked + 20_000), kept.get(kept.size() - 1));
        advance(9);
        assertEquals(0, terminations.get());
        advance(1);
        assertEquals(1, terminations.get());
    }

    /**
     * An earlier runner asked 10 s ago with 40 s to wait: 30 s are left, not a fresh 40; the button
     * is pressed again at the usual interval, and the deadline kept is the original one.
     */
    @Test
    void aResumedLadderKeepsTheOriginalDeadline() throws Exception {
        Stopping earlier = new Stopping(clock.wallMillis() - 10_000, clock.wallMillis() + 30_000);
        onLoop(l -> earlier, true);
        assertEquals(List.of(earlier), kept);
        assertEquals(0, presses.get());
        advance(5);
        assertEquals(1, presses.get());
        advance(24);
        assertEquals(0, terminations.get());
        advance(1);
        assertEquals(1, terminations.get());
    }

    /** The deadline passed while no runner ran: QEMU is terminated at once (exit 4). */
    @Test
    void aResumedLadderPastItsDeadlineTerminatesAtOnce() throws Exception {
        Stopping earlier = new Stopping(clock.wallMillis() - 50_000, clock.wallMillis() - 10_000);
        onLoop(l -> earlier, true);
        assertEquals(1, terminations.get());
        assertEquals(0, presses.get());
    }
}
