package dev.vmrunner.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestAgentWatcherTest {
    @TempDir Path dir;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();
    private final BlockingQueue<String> told = new LinkedBlockingQueue<>();

    @AfterEach
    void stopLoop() {
        loop.shutdownNow();
    }

    private final List<ScheduledFuture<?>> timers = new CopyOnWriteArrayList<>();

    private final GuestAgentWatcher.Scheduler scheduler =
            (delay, task) -> {
                ScheduledFuture<?> f = loop.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
                if (!delay.isZero()) {
                    timers.add(f);
                }
                return () -> f.cancel(false);
            };

    /** Timers (not hand-overs) neither run nor cancelled. */
    private long timersPending() {
        return timers.stream().filter(f -> !f.isDone()).count();
    }

    private final GuestAgentWatcher.Listener listener =
            new GuestAgentWatcher.Listener() {
                @Override
                public void booted(GuestInfo info, Duration sinceStart) {
                    told.add("booted " + info.describe());
                }

                @Override
                public void updated(GuestInfo info) {
                    told.add("updated " + info.hostName());
                }

                @Override
                public void unreachable(AgentException cause) {
                    told.add("unreachable " + cause.kind());
                }
            };

    private String next() throws InterruptedException {
        String s = told.poll(10, TimeUnit.SECONDS);
        assertNotNull(s, "nothing told within 10 s");
        return s;
    }

    @Test
    void bootedThenUnreachableThenUpdatedAgain() throws Exception {
        AtomicBoolean silent = new AtomicBoolean(true);
        try (FakeAgent fake = new FakeAgent(dir.resolve("ga"));
                GuestAgent agent = new GuestAgent(dir.resolve("ga"), Duration.ofMillis(300))) {
            fake.on(
                    "guest-sync-delimited",
                    (r, p) -> {
                        if (!silent.get()) {
                            p.syncReply(r);
                        }
                    });
            answerAll(fake);
            GuestAgentWatcher watcher =
                    new GuestAgentWatcher(
                            agent,
                            scheduler,
                            listener,
                            Duration.ofMillis(100),
                            Duration.ofMillis(500));
            loop.execute(watcher::start);
            // The guest is still booting: no answers, nothing told. The third question shows
            // that the watcher has handled two unanswered ones (each asks the next).
            for (int question = 1; question <= 3; question++) {
                assertNotNull(fake.next("guest-sync-delimited"), "question " + question);
            }
            assertTrue(told.isEmpty(), told.toString());
            silent.set(false);
            assertEquals(
                    "booted Debian 12, host name vm1, time zone UTC (UTC+0.0h), addresses"
                            + " 10.0.2.15/24",
                    next());
            assertEquals("updated vm1", next());
            silent.set(true);
            fake.on("guest-get-osinfo", (r, p) -> {});
            assertEquals("unreachable TIMEOUT", next());
            silent.set(false);
            fake.on(
                    "guest-get-osinfo",
                    (r, p) -> p.reply(r, JsonParser.parseString("{\"id\":\"debian\"}")));
            assertEquals("updated vm1", next());
            loop.submit(watcher::stop).get();
            told.clear();
            assertEquals(0, loop.submit(this::timersPending).get(), "a timer after stop");
            assertFalse(loop.submit(watcher::booted).get());
            loop.submit(watcher::reset).get();
            // An answer still on its way at the stop comes before the new ones (the agent
            // answers in turn): had it told anything, that would come first.
            assertTrue(next().startsWith("booted "), "nothing after stop but the new boot");
            assertEquals(
                    List.of("10.0.2.15/24"),
                    loop.submit(() -> watcher.info().get().addresses()).get());
        }
    }

    /** The fake answers every question the watcher asks. */
    private static void answerAll(FakeAgent fake) {
        fake.on(
                "guest-get-osinfo",
                (r, p) ->
                        p.reply(
                                r,
                                JsonParser.parseString(
                                        "{\"id\":\"debian\",\"pretty-name\":\"Debian 12\"}")));
        fake.on(
                "guest-get-host-name",
                (r, p) -> {
                    JsonObject o = new JsonObject();
                    o.addProperty("host-name", "vm1");
                    p.reply(r, o);
                });
        fake.on(
                "guest-get-timezone",
                (r, p) -> p.reply(r, JsonParser.parseString("{\"zone\":\"UTC\",\"offset\":0}")));
        fake.on(
                "guest-network-get-interfaces",
                (r, p) ->
                        p.reply(
                                r,
                                JsonParser.parseString(
                                        "[{\"name\":\"eth0\",\"ip-addresses\":[{"
                                                + "\"ip-address-type\":\"ipv4\",\"ip-address\":"
                                                + "\"10.0.2.15\",\"prefix\":24}]}]")));
    }

    @Test
    void askNowRefreshesAtOnceInsteadOfAtTheNextInterval() throws Exception {
        try (FakeAgent fake = new FakeAgent(dir.resolve("ga"));
                GuestAgent agent = new GuestAgent(dir.resolve("ga"), Duration.ofMillis(300))) {
            fake.on("guest-sync-delimited", (r, p) -> p.syncReply(r));
            answerAll(fake);
            GuestAgentWatcher watcher =
                    new GuestAgentWatcher(
                            agent,
                            scheduler,
                            listener,
                            Duration.ofMillis(100),
                            Duration.ofHours(1));
            loop.execute(watcher::askNow); // not started: nothing to ask
            loop.execute(watcher::start);
            assertTrue(next().startsWith("booted "));
            loop.execute(watcher::askNow);
            assertEquals("updated vm1", next());
        }
    }
}
