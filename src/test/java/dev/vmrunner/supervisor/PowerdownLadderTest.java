package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The ladder's rungs on the fake clock, where the supervisor's tests cannot reach. */
class PowerdownLadderTest {

    @Test
    void aPressThatFailsDoesNotEndThePressesOrTheLadder() throws Exception {
        FakeClock clock = new FakeClock();
        Loop loop = new Loop(clock);
        AtomicInteger presses = new AtomicInteger();
        AtomicInteger terminations = new AtomicInteger();
        PowerdownLadder.Rungs rungs =
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
        Thread thread =
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
        thread.setDaemon(true);
        thread.start();
        loop.post(
                new Event.Continuation(
                        () ->
                                new PowerdownLadder(
                                                loop,
                                                rungs,
                                                PowerdownLadder.askedNow(
                                                        loop, Duration.ofSeconds(20)),
                                                Duration.ofSeconds(5),
                                                Duration.ofSeconds(5),
                                                stop -> {})
                                        .start()));
        CompletableFuture<Void> never = new CompletableFuture<>();
        clock.idle(never);
        assertEquals(1, presses.get());
        clock.advance(Duration.ofSeconds(5));
        clock.idle(never);
        assertEquals(2, presses.get());
        assertEquals(0, terminations.get());
        clock.advance(Duration.ofSeconds(16));
        clock.idle(never);
        assertEquals(1, terminations.get());
        thread.interrupt();
    }
}
