package dev.vmrunner.supervisor.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.MigrationUri;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.qmp.FakeQmpServer;
import dev.vmrunner.qmp.MigrationInfo;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.QmpConnection;
import dev.vmrunner.supervisor.LoopThread;
import dev.vmrunner.supervisor.claim.VmClaim;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source's decisions on a fake clock against a scripted QEMU on a real QMP socket: the deadline
 * gives up, a cancel cancels, a failure keeps the guest, a completion ends QEMU here, and what is
 * refused is refused before {@code migrate} is sent. Synchronised by barriers, never by sleeping.
 */
class OutgoingTest {

    private static final MigrationUri TO = MigrationUri.parse("tcp:127.0.0.1:4444");

    @TempDir Path dir;

    private final LoopThread loop = new LoopThread("outgoing-test", Duration.ofSeconds(10));
    private final AtomicInteger migrated = new AtomicInteger();
    private final AtomicInteger migrates = new AtomicInteger();
    private final AtomicInteger cancels = new AtomicInteger();
    private volatile String state = "active";
    private volatile String error;
    private FakeQmpServer qemu;
    private QmpConnection connection;
    private RunnerConfig config;
    private FileChannel targetLock;
    private Outgoing outgoing;

    @BeforeEach
    void setUp() throws Exception {
        config =
                ConfigLoader.parse(
                        ("\"/Runner\":\n  dataDir: %s\n  runtimeDir: %s\n"
                                        + "  migration:\n    deadline: 60\n"
                                        + "  vm:\n    name: mig\n    maximumRam: 1G\n")
                                .formatted(dir.resolve("data"), dir.resolve("run")),
                        dir.resolve("config.yaml"),
                        Map.of());
        Files.createDirectories(config.dataDir());
        qemu = FakeQmpServer.start(dir.resolve("qmp.sock"));
        qemu.reply("migrate-set-capabilities", new JsonObject())
                .reply("migrate-set-parameters", new JsonObject())
                .on(
                        "migrate",
                        (request, peer) -> {
                            migrates.incrementAndGet();
                            peer.reply(request, new JsonObject());
                        })
                .on(
                        "migrate_cancel",
                        (request, peer) -> {
                            cancels.incrementAndGet();
                            state = "cancelled";
                            peer.reply(request, new JsonObject());
                        })
                .on(
                        "query-migrate",
                        (request, peer) -> {
                            JsonObject info = new JsonObject();
                            info.addProperty("status", state);
                            if (error != null) {
                                info.addProperty("error-desc", error);
                            }
                            peer.reply(request, info);
                        })
                .on(
                        "query-status",
                        (request, peer) -> {
                            JsonObject status = new JsonObject();
                            status.addProperty("status", "running");
                            status.addProperty("running", true);
                            peer.reply(request, status);
                        });
        connection = QmpConnection.connect(dir.resolve("qmp.sock"), Duration.ofSeconds(10), null);
        Qmp qmp = new Qmp(connection, Duration.ofSeconds(10));
        outgoing =
                new Outgoing(
                        loop.loop(),
                        config.migration(),
                        new Outgoing.Host() {
                            @Override
                            public Qmp qmp() {
                                return qmp;
                            }

                            @Override
                            public String notReady() {
                                return null;
                            }

                            @Override
                            public RunnerConfig started() {
                                return config;
                            }

                            @Override
                            public RunnerConfig current() {
                                return config;
                            }

                            @Override
                            public void migrated() {
                                migrated.incrementAndGet();
                            }
                        });
    }

    @AfterEach
    void tearDown() throws Exception {
        if (targetLock != null) {
            targetLock.close();
        }
        connection.close();
        qemu.close();
        loop.close();
    }

    /** A target waits: its lock is held (here, by this JVM) and its shape is written. */
    private void targetWaits(RunnerConfig target) throws Exception {
        targetLock =
                FileChannel.open(
                        config.dataDir().resolve(VmClaim.INCOMING_LOCK_FILE),
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE);
        targetLock.lock();
        TargetFacts.write(target);
    }

    private CompletableFuture<String> start() {
        CompletableFuture<String> answer = loop.onLoop(() -> outgoing.start(TO));
        // Until QEMU got 'migrate' (or the start answered): bounded by real time, not by a count
        // of rounds, which a loaded machine's loop thread may need many more of
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (migrates.get() == 0 && !answer.isDone() && System.nanoTime() - deadline < 0) {
            settle();
            Thread.onSpinWait();
        }
        return answer;
    }

    /**
     * Moves the clock on by {@code time} in steps of the poll interval; at each step what QEMU
     * answered is taken by the loop (barriers, never sleeps).
     */
    private void runFor(Duration time) {
        for (long t = 0; t < time.toMillis(); t += Outgoing.POLL.toMillis()) {
            step();
        }
    }

    private void step() {
        settle();
        loop.advance(Outgoing.POLL);
    }

    /** What QEMU has answered is taken by the loop; the clock stays. */
    private void settle() {
        try {
            qemu.awaitAnswered(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        loop.advance(Duration.ZERO);
    }

    /** Steps until the answer is there (bounded: a minute of the fake clock). */
    private String answer(CompletableFuture<String> answer) throws Exception {
        for (int i = 0; i < 240 && !answer.isDone(); i++) {
            step();
        }
        return answer.get(10, TimeUnit.SECONDS);
    }

    @Test
    void givesUpAtTheDeadlineAndTheGuestStays() throws Exception {
        targetWaits(config);
        CompletableFuture<String> answer = start();
        assertEquals(1, migrates.get());
        runFor(Duration.ofSeconds(59));
        assertEquals(0, cancels.get(), "cancelled before the deadline");
        assertEquals("failed: deadline passed", answer(answer));
        assertEquals(1, cancels.get());
        assertEquals(0, migrated.get());
        assertFalse(loop.onLoop(outgoing::active));
    }

    @Test
    void aCancelCancelsAndTheGuestStays() throws Exception {
        targetWaits(config);
        CompletableFuture<String> answer = start();
        assertEquals("ok", loop.onLoop(() -> outgoing.cancel("test")));
        assertEquals("cancelled", answer(answer));
        assertEquals(1, cancels.get());
        assertEquals(0, migrated.get());
        assertEquals("error: no migration runs", loop.onLoop(() -> outgoing.cancel("again")));
    }

    @Test
    void aStopSignalCancelsARunningMigrationOnly() throws Exception {
        assertFalse(loop.onLoop(() -> outgoing.cancelOnStop("TERM")));
        targetWaits(config);
        CompletableFuture<String> answer = start();
        assertTrue(loop.onLoop(() -> outgoing.cancelOnStop("TERM")));
        assertEquals("cancelled", answer(answer));
    }

    @Test
    void aFailureIsReportedWithQemusReasonAndTheGuestStays() throws Exception {
        targetWaits(config);
        CompletableFuture<String> answer = start();
        error = "Unable to write to socket: Connection reset by peer";
        state = "failed";
        assertEquals("failed: Unable to write to socket: Connection reset by peer", answer(answer));
        assertEquals(0, migrated.get());
        assertEquals("failed", loop.onLoop(() -> outgoing.status().status()));
    }

    @Test
    void aCompletionEndsQemuHere() throws Exception {
        targetWaits(config);
        CompletableFuture<String> answer = start();
        state = "completed";
        assertEquals("completed", answer(answer));
        assertEquals(1, migrated.get());
    }

    @Test
    void aSecondMigrationIsRefused() throws Exception {
        targetWaits(config);
        CompletableFuture<String> first = start();
        String second = loop.onLoop(() -> outgoing.start(TO)).get(10, TimeUnit.SECONDS);
        assertTrue(second.startsWith("refused: a migration to tcp:127.0.0.1:4444 runs"), second);
        assertEquals(1, migrates.get());
        assertFalse(first.isDone());
    }

    @Test
    void withoutAWaitingTargetNothingIsSent() throws Exception {
        String answer = answer(start());
        assertTrue(answer.startsWith("refused: no target runner waits for VM mig"), answer);
        assertEquals(0, migrates.get());
    }

    @Test
    void aTargetOfAnotherShapeIsRefusedBeforeAnythingMoves() throws Exception {
        RunnerConfig bigger =
                ConfigLoader.parse(
                        ("\"/Runner\":\n  dataDir: %s\n  runtimeDir: %s\n"
                                        + "  vm:\n    name: mig\n    maximumRam: 2G\n")
                                .formatted(dir.resolve("data"), dir.resolve("run2")),
                        dir.resolve("config2.yaml"),
                        Map.of());
        targetWaits(bigger);
        String answer = answer(start());
        assertTrue(
                answer.contains("vm.maximumRam: 1073741824 here, 2147483648 on the target"),
                answer);
        assertEquals(0, migrates.get());
    }

    @Test
    void theDecisionIsPure() {
        long deadline = 1_000;
        assertEquals(Outgoing.Step.WAIT, Outgoing.decide(info("active"), 999, deadline, false));
        assertEquals(Outgoing.Step.GIVE_UP, Outgoing.decide(info("active"), 1001, deadline, false));
        assertEquals(Outgoing.Step.WAIT, Outgoing.decide(info("cancelling"), 1001, deadline, true));
        assertEquals(
                Outgoing.Step.COMPLETED, Outgoing.decide(info("completed"), 5000, deadline, true));
        assertEquals(Outgoing.Step.FAILED, Outgoing.decide(info("failed"), 0, deadline, false));
        assertEquals(
                Outgoing.Step.CANCELLED, Outgoing.decide(info("cancelled"), 0, deadline, false));
    }

    private static MigrationInfo info(String status) {
        return new MigrationInfo(status, 0, 0, 0, 0, 0, 0, 0, null);
    }
}
