package dev.vmrunner.supervisor.migrate;

import dev.vmrunner.config.MigrationUri;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.qmp.MigrationInfo;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.status.MigrationStatus;
import dev.vmrunner.supervisor.live.LiveLoop;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The target side of a live migration, on the supervisor's loop: once QEMU (started with {@code
 * -incoming defer} and {@code -S}) is connected, {@code migrate-incoming} makes it listen; {@code
 * query-migrate} tells when the guest has arrived; then the runner waits for the source runner to
 * let go of the VM ({@code runner.lock}) and only then lets the start go on ({@code cont}): the
 * guest never runs twice. The guest's vCPUs stay paused until then.
 *
 * <pre>
 *   listening ──completed──▶ arrived ──source runner gone, claim taken──▶ (the start goes on)
 *       │
 *       └── failed, QEMU gone, stop ──▶ the start fails (exit 11) or is stopped (exit 0)
 * </pre>
 */
public final class Incoming {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    static final Duration POLL = Duration.ofMillis(100);

    /** How often the source runner's lock is tried once the guest has arrived (cheap). */
    static final Duration LOCK_RETRY = Duration.ofMillis(10);

    /** How often the wait for the source runner's end is logged. */
    static final Duration LOG_WAIT_EVERY = Duration.ofSeconds(10);

    /** What the supervisor lends the target's side. */
    public interface Host {
        /** The incoming migration failed: the start fails (the guest runs on at the source). */
        void failed(String message);

        /** Takes the VM's claim over from the source runner; false while it still holds it. */
        boolean takeOver();

        /** True once the guest's vCPUs run here. */
        boolean running();

        /** Stops the VM gracefully (the powerdown ladder). */
        void stop();
    }

    private final LiveLoop loop;
    private final MigrationUri from;
    private final Host host;
    private boolean listening;
    private boolean arrived;
    private boolean takenOver;
    private boolean stopAfterTakeover;
    private long lastWaitLog;
    private volatile MigrationStatus status;
    private Path tpmStateDir;
    private Poller poller;

    public Incoming(LiveLoop loop, MigrationUri from, Host host) {
        this.loop = loop;
        this.from = from;
        this.host = host;
        this.status =
                new MigrationStatus("incoming", from.toString(), "none", 0, 0, 0, 0, 0, 0, 0, null);
    }

    /** The TPM state directory the template gives swtpm, if any ({@link IncomingCommands}). */
    public void tpmStateDir(Optional<Path> dir) {
        tpmStateDir = dir.orElse(null);
    }

    /**
     * After the run (every child has ended): the target's facts go, and the TPM state this run kept
     * becomes the VM's when the guest ran here ({@link TpmHandover}).
     */
    public void close(RunnerConfig config) {
        TargetFacts.remove(config);
        if (tpmStateDir != null) {
            TpmHandover.finish(tpmStateDir, takenOver);
        }
    }

    /** QEMU's {@code MIGRATION} event: the status changed, asked at once. */
    public void migrationEvent() {
        if (poller != null && !arrived) {
            poller.now();
        }
    }

    /** For {@code status}; any thread. */
    public MigrationStatus status() {
        return status;
    }

    /** True until the guest has arrived and the VM's claim is taken: status says "incoming". */
    public boolean waiting() {
        return !takenOver;
    }

    /** True once the guest's state has arrived here (its only running copy may be here now). */
    public boolean arrived() {
        return arrived;
    }

    /**
     * SIGTERM or SIGINT: true when the guest has arrived but not yet been taken over. It must not
     * be thrown away; it is taken over and then powered down as usual.
     */
    public boolean stopLater() {
        if (!arrived || takenOver) {
            return false;
        }
        LOG.info("Stop asked while the guest arrives: it is taken over, then powered down");
        stopAfterTakeover = true;
        return true;
    }

    /** QEMU is connected and paused: listens for the guest; {@code then} goes on with the start. */
    public void receive(Qmp qmp, Runnable then) {
        poller = new Poller(loop, POLL, () -> poll(qmp, then));
        loop.whenDone(
                qmp.migration()
                        .setCapabilities(Map.of("events", true))
                        .thenCompose(ok -> qmp.migration().migrateIncoming(from.toString())),
                (ok, error) -> {
                    if (error != null) {
                        host.failed(
                                "Failed to wait for the guest on "
                                        + from
                                        + ": "
                                        + error.getMessage());
                        return;
                    }
                    listening = true;
                    LOG.info(() -> "Waiting for the guest on " + from);
                    poller.run();
                });
    }

    private void poll(Qmp qmp, Runnable then) {
        loop.whenDone(
                qmp.migration().query(),
                (info, error) -> {
                    if (error != null) {
                        // QEMU ends on a failed incoming migration; its exit ends the start.
                        LOG.fine(() -> "query-migrate failed: " + error.getMessage());
                        poller.stop();
                        return;
                    }
                    update(info, null);
                    switch (info.status()) {
                        case "completed" -> {
                            poller.stop();
                            arrived = true;
                            LOG.info(
                                    () ->
                                            "The guest has arrived ("
                                                    + info.totalTimeMs()
                                                    + " ms); taking the VM over from the source"
                                                    + " runner");
                            lastWaitLog = loop.nanoTime();
                            takeOver(then);
                        }
                        case "failed", "cancelled" -> {
                            poller.stop();
                            host.failed(
                                    "The incoming migration "
                                            + info.status()
                                            + (info.error() == null ? "" : ": " + info.error()));
                        }
                        default -> poller.later();
                    }
                });
    }

    private void takeOver(Runnable then) {
        if (!host.takeOver()) {
            if (loop.nanoTime() - lastWaitLog > LOG_WAIT_EVERY.toNanos()) {
                lastWaitLog = loop.nanoTime();
                LOG.info("Still waiting for the source runner to end (it holds the VM's lock)");
            }
            var unused = loop.schedule(LOCK_RETRY, () -> takeOver(then));
            return;
        }
        takenOver = true;
        update(null, "completed");
        LOG.info("Took the VM over from the source runner; the guest continues here");
        then.run();
        if (stopAfterTakeover) {
            stopOnceRunning();
        }
    }

    private void stopOnceRunning() {
        if (host.running()) {
            host.stop();
        } else {
            var unused = loop.schedule(POLL, this::stopOnceRunning);
        }
    }

    /** True while QEMU listens and nothing has arrived. */
    boolean listening() {
        return listening && !arrived;
    }

    private void update(MigrationInfo info, String result) {
        MigrationStatus last = status;
        status =
                info == null
                        ? new MigrationStatus(
                                last.role(),
                                last.peer(),
                                last.status(),
                                last.transferredBytes(),
                                0,
                                last.totalBytes(),
                                0,
                                0,
                                0,
                                last.totalTimeMs(),
                                result)
                        : new MigrationStatus(
                                "incoming",
                                from.toString(),
                                info.status(),
                                info.transferredBytes(),
                                info.remainingBytes(),
                                info.totalBytes(),
                                0,
                                0,
                                0,
                                info.totalTimeMs(),
                                null);
    }
}
