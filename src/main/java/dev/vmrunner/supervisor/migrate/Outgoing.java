package dev.vmrunner.supervisor.migrate;

import dev.vmrunner.config.Migration;
import dev.vmrunner.config.MigrationUri;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.Sizes;
import dev.vmrunner.qmp.MigrationInfo;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.status.MigrationStatus;
import dev.vmrunner.supervisor.live.LiveLoop;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;

/**
 * The source side of a live migration, on the supervisor's loop: refuses what cannot work before
 * any state moves, sets QEMU's limits, starts {@code migrate}, follows {@code query-migrate} and
 * bounds it. Precopy only: postcopy needs userfaultfd, which a restricted pod does not get, and a
 * postcopy that fails half-way loses the guest; at the deadline the runner gives up instead (the
 * guest runs on here). Loop thread only, except {@link #status}.
 *
 * <pre>
 *   idle ──start──▶ active ──completed──▶ (QEMU ended without the power button: the run ends)
 *     ▲               │
 *     └── failed, cancelled, deadline ──┘   (the guest runs on here)
 * </pre>
 */
public final class Outgoing {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** How often {@code query-migrate} is asked while a migration runs. */
    static final Duration POLL = Duration.ofMillis(250);

    /** Every how many polls the progress is logged. */
    static final int LOG_EVERY = 20;

    /** What the loop does next with a migration, decided from QEMU's answer. */
    enum Step {
        WAIT,
        GIVE_UP,
        COMPLETED,
        FAILED,
        CANCELLED
    }

    /** What the supervisor lends a migration. */
    public interface Host {
        /** QEMU's monitor, null while not connected. */
        Qmp qmp();

        /** Why no migration can start now (the VM is not running), or null. */
        String notReady();

        /** The configuration QEMU was started with, and the one applied now. */
        RunnerConfig started();

        RunnerConfig current();

        /** The target has the guest: QEMU is ended without the power button, and the run ends. */
        void migrated();
    }

    private final LiveLoop loop;
    private final Migration settings;
    private final Host host;
    private MigrationUri to;
    private CompletableFuture<String> answer;
    private long deadline;
    private int polls;
    private boolean cancelAsked;
    private boolean deadlinePassed;
    private boolean askedForTimes;
    private volatile MigrationStatus status;
    private final Poller poller;

    public Outgoing(LiveLoop loop, Migration settings, Host host) {
        this.loop = loop;
        this.settings = settings;
        this.host = host;
        this.poller = new Poller(loop, POLL, this::poll);
    }

    /** The migration for {@code status}, null when none ran; any thread. */
    public MigrationStatus status() {
        return status;
    }

    /** True while a migration runs. */
    public boolean active() {
        return answer != null;
    }

    /**
     * Starts a migration to {@code target}. The future completes with the answer for the client:
     * {@code completed}, {@code failed: WHY}, {@code cancelled} or {@code refused: WHY}.
     */
    public CompletableFuture<String> start(MigrationUri target) {
        String refusal = refusal();
        if (refusal != null) {
            LOG.warning(() -> "Migration to " + target + " refused: " + refusal);
            return CompletableFuture.completedFuture("refused: " + refusal);
        }
        Qmp qmp = host.qmp();
        to = target;
        answer = new CompletableFuture<>();
        cancelAsked = false;
        askedForTimes = false;
        polls = 0;
        deadline = loop.nanoTime() + settings.deadline().toNanos();
        status = new MigrationStatus("outgoing", to.toString(), "setup", 0, 0, 0, 0, 0, 0, 0, null);
        LOG.info(
                () ->
                        "Migrating VM to "
                                + to
                                + " (max downtime "
                                + settings.maxDowntime().toMillis()
                                + " ms, deadline "
                                + settings.deadline().toSeconds()
                                + " s)");
        CompletableFuture<Void> begun =
                qmp.migration()
                        .setCapabilities(Map.of("postcopy-ram", false, "events", true))
                        .thenCompose(
                                ok ->
                                        qmp.migration()
                                                .setLimits(
                                                        settings.maxDowntime().toMillis(),
                                                        settings.maxBandwidth()))
                        .thenCompose(ok -> qmp.migration().migrate(to.toString()));
        CompletableFuture<String> mine = answer;
        loop.whenDone(
                begun,
                (ok, error) -> {
                    if (error != null) {
                        end(Step.FAILED, "failed to start: " + error.getMessage());
                    } else {
                        poller.run();
                    }
                });
        return mine;
    }

    private String refusal() {
        if (active()) {
            return "a migration to " + to + " runs already";
        }
        String notReady = host.notReady();
        if (notReady != null) {
            return notReady;
        }
        if (host.qmp() == null) {
            return "not connected to QEMU's monitor";
        }
        RunnerConfig started = host.started();
        if (host.current().vm().currentCpus() != started.vm().currentCpus()) {
            return "vCPUs were plugged or unplugged since the start ("
                    + started.vm().currentCpus()
                    + " then, "
                    + host.current().vm().currentCpus()
                    + " now): a target cannot be started with that topology yet";
        }
        return TargetFacts.refusal(started);
    }

    /** {@code vmrunner migrate --cancel}: the answer for the client. */
    public String cancel(String why) {
        if (!active()) {
            return "error: no migration runs";
        }
        if (!cancelAsked) {
            cancelAsked = true;
            LOG.info(() -> "Cancelling the migration to " + to + " (" + why + ")");
            sendCancel();
        }
        return "ok";
    }

    /** SIGTERM or SIGINT: true when it cancelled a migration (the guest runs on here). */
    public boolean cancelOnStop(String signal) {
        if (!active()) {
            return false;
        }
        cancel("SIG" + signal + "; send it again to stop the VM");
        return true;
    }

    private void sendCancel() {
        Qmp qmp = host.qmp();
        if (qmp != null) {
            loop.whenDone(
                    qmp.migration().cancel(),
                    (ok, error) -> {
                        if (error != null) {
                            LOG.warning(
                                    () -> "Failed to cancel the migration: " + error.getMessage());
                        }
                    });
        }
    }

    /** QEMU's {@code MIGRATION} event: its status changed, asked at once. */
    public void migrationEvent() {
        if (active()) {
            poller.now();
        }
    }

    private void poll() {
        Qmp qmp = host.qmp();
        if (!active()) {
            poller.stop();
            return;
        }
        if (qmp == null) {
            poller.later();
            return;
        }
        loop.whenDone(
                qmp.migration().query(),
                (info, error) -> {
                    if (!active()) {
                        poller.stop();
                        return;
                    }
                    if (error != null) {
                        LOG.fine(() -> "query-migrate failed: " + error.getMessage());
                        poller.later();
                        return;
                    }
                    progress(info);
                    Step step = decide(info, loop.nanoTime(), deadline, cancelAsked);
                    if (step == Step.COMPLETED && info.totalTimeMs() == 0 && !askedForTimes) {
                        // QEMU says completed a moment before it has its times: once more, now.
                        askedForTimes = true;
                        poller.run();
                        return;
                    }
                    switch (step) {
                        case WAIT -> poller.later();
                        case GIVE_UP -> {
                            cancelAsked = true;
                            LOG.warning(
                                    () ->
                                            "The migration to "
                                                    + to
                                                    + " did not complete within its deadline ("
                                                    + settings.deadline().toSeconds()
                                                    + " s): giving up, the guest runs on here");
                            sendCancel();
                            deadlinePassed = true;
                            poller.later();
                        }
                        default -> {
                            poller.stop();
                            end(
                                    step,
                                    info.error() != null
                                            ? info.error()
                                            : deadlinePassed ? "deadline passed" : "");
                        }
                    }
                });
    }

    /**
     * The decision, pure: an ended migration ends; a running one past its deadline is given up
     * (once: a cancel already asked for is waited for).
     */
    static Step decide(MigrationInfo info, long now, long deadline, boolean cancelAsked) {
        return switch (info.status()) {
            case "completed" -> Step.COMPLETED;
            case "failed" -> Step.FAILED;
            case "cancelled" -> Step.CANCELLED;
            default -> !cancelAsked && now - deadline > 0 ? Step.GIVE_UP : Step.WAIT;
        };
    }

    private void progress(MigrationInfo info) {
        status =
                new MigrationStatus(
                        "outgoing",
                        to.toString(),
                        info.status(),
                        info.transferredBytes(),
                        info.remainingBytes(),
                        info.totalBytes(),
                        info.dirtyPagesRate(),
                        info.expectedDowntimeMs(),
                        info.downtimeMs(),
                        info.totalTimeMs(),
                        null);
        if (polls++ % LOG_EVERY == 0 && !info.ended()) {
            LOG.info(
                    () ->
                            "Migration "
                                    + info.status()
                                    + ": "
                                    + Sizes.format(info.transferredBytes())
                                    + " sent, "
                                    + Sizes.format(info.remainingBytes())
                                    + " remaining, "
                                    + info.dirtyPagesRate()
                                    + " dirty pages/s, expected downtime "
                                    + info.expectedDowntimeMs()
                                    + " ms");
        }
    }

    private void end(Step step, String detail) {
        String result =
                switch (step) {
                    case COMPLETED -> "completed";
                    case CANCELLED -> deadlinePassed ? "failed: deadline passed" : "cancelled";
                    default -> "failed: " + detail;
                };
        MigrationStatus last = status;
        status =
                new MigrationStatus(
                        "outgoing",
                        to.toString(),
                        last.status(),
                        last.transferredBytes(),
                        last.remainingBytes(),
                        last.totalBytes(),
                        last.dirtyPagesRate(),
                        last.expectedDowntimeMs(),
                        last.downtimeMs(),
                        last.totalTimeMs(),
                        result);
        CompletableFuture<String> done = answer;
        answer = null;
        deadlinePassed = false;
        if (step == Step.COMPLETED) {
            LOG.info(
                    () ->
                            "Migration to "
                                    + to
                                    + " completed in "
                                    + last.totalTimeMs()
                                    + " ms (guest paused "
                                    + last.downtimeMs()
                                    + " ms): the target has the guest; ending QEMU here");
            host.migrated();
        } else {
            LOG.warning(() -> "Migration to " + to + " " + result + "; the guest runs on here");
            keepRunning();
        }
        done.complete(result);
    }

    /** QEMU resumes the guest after a failed migration by itself; this makes sure of it. */
    private void keepRunning() {
        Qmp qmp = host.qmp();
        if (qmp == null) {
            return;
        }
        loop.whenDone(
                qmp.queryStatus(),
                (vm, error) -> {
                    if (error == null && !vm.running() && host.notReady() == null) {
                        LOG.warning(
                                () -> "The guest is " + vm.status() + " after the migration: cont");
                        var unused = qmp.cont();
                    }
                });
    }
}
