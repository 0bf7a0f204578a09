package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
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
                                                Duration.ofSeconds(20),
                                                Duration.ofSeconds(5),
                                                Duration.ofSeconds(5))
                                        .start()));
        await(() -> presses.get() == 1);
        clock.advance(Duration.ofSeconds(5));
        await(() -> presses.get() == 2);
        clock.advance(Duration.ofSeconds(16));
        await(() -> terminations.get() == 1);
        assertEquals(1, terminations.get());
        thread.interrupt();
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(condition.getAsBoolean());
    }
}
