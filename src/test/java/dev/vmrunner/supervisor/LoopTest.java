package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.qmp.QmpStats;
import dev.vmrunner.qmp.VmEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The loop's own guards (the heap) and the gate in front of it (event storms). */
class LoopTest {
    private final FakeClock clock = new FakeClock();
    private final Loop loop = new Loop(clock);
    private final AtomicBoolean done = new AtomicBoolean();

    /** Runs the loop until {@code last} has run (a barrier: everything queued before it ran). */
    private void runUntil(Runnable last) throws InterruptedException {
        done.set(false);
        loop.post(
                new Event.Continuation(
                        () -> {
                            last.run();
                            done.set(true);
                        }));
        loop.run(e -> ((Event.Continuation) e).action().run(), done::get);
    }

    private void outOfMemory(String message) {
        loop.post(
                new Event.Continuation(
                        () -> {
                            throw new OutOfMemoryError(message);
                        }));
    }

    @Test
    void anOutOfMemoryErrorSpendsTheReserveAndASecondOneStopsTheVm() throws Exception {
        AtomicInteger exhausted = new AtomicInteger();
        loop.onHeapExhausted(exhausted::incrementAndGet);
        outOfMemory("test");
        AtomicBoolean after = new AtomicBoolean();
        runUntil(() -> after.set(true));
        assertTrue(after.get(), "the loop goes on");
        assertEquals(0, exhausted.get(), "the reserve was there");

        outOfMemory("again");
        runUntil(() -> {});
        assertEquals(1, exhausted.get(), "out of heap for good");
    }

    @Test
    void theReserveIsTakenAgainAMinuteLater() throws Exception {
        AtomicInteger exhausted = new AtomicInteger();
        loop.onHeapExhausted(exhausted::incrementAndGet);
        outOfMemory("test");
        runUntil(() -> clock.advance(Duration.ofMinutes(1)));
        runUntil(() -> {}); // the due re-arm runs
        outOfMemory("later");
        runUntil(() -> {});
        assertEquals(0, exhausted.get(), "a later error finds the reserve again");
    }

    @Test
    void aStormOfGuestEventsReachesTheLoopOnceASecondTheLatestWinning() throws Exception {
        QmpStats stats = new QmpStats();
        EventGate gate = new EventGate(loop, stats);
        List<VmEvent> seen = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            gate.offer(new VmEvent.Reset(true, "guest-reset-" + i));
            gate.offer(new VmEvent.Shutdown(false, "host-qmp-quit-" + i));
        }
        done.set(false);
        loop.post(new Event.Continuation(() -> done.set(true)));
        loop.run(
                e -> {
                    if (e instanceof Event.QmpEventArrived a) {
                        seen.add(a.event());
                    } else {
                        ((Event.Continuation) e).action().run();
                    }
                },
                done::get);
        assertEquals(1, seen.stream().filter(e -> e instanceof VmEvent.Reset).count());
        assertEquals(1000, seen.stream().filter(e -> e instanceof VmEvent.Shutdown).count());
        assertEquals(998L, stats.mergedEvents().get("RESET"));

        clock.advance(Duration.ofSeconds(1)); // the waiting one is due
        loop.run(
                e -> {
                    if (e instanceof Event.QmpEventArrived a) {
                        seen.add(a.event());
                    }
                },
                () -> seen.stream().filter(x -> x instanceof VmEvent.Reset).count() == 2);
        VmEvent last = seen.get(seen.size() - 1);
        assertEquals(new VmEvent.Reset(true, "guest-reset-999"), last, "the latest wins");
    }
}
