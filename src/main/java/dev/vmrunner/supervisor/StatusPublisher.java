package dev.vmrunner.supervisor;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.Sizes;
import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.status.MigrationStatus;
import dev.vmrunner.status.Status;
import dev.vmrunner.supervisor.Event.Continuation;
import dev.vmrunner.supervisor.live.LiveConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What the runner tells about its VM: the {@link Status} snapshot, made on the loop thread after
 * every event and read from any thread; the watchers of it (systemd, the HTTP start); the one-line
 * report for SIGUSR1; and whether the loop answers (liveness).
 */
final class StatusPublisher {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private final RunnerConfig config;
    private final Loop loop;
    private final Lifecycle life;
    private final Children children;
    private final MonitorLink monitor;
    private final DisplayAccess display;
    private final LiveConfig live;
    private final long startNanos;
    private final List<Consumer<Status>> watchers = new CopyOnWriteArrayList<>();
    private final Supplier<String> desired;
    private volatile Status published;
    private Supplier<MigrationStatus> migration = () -> null;
    private BooleanSupplier incoming = () -> false;

    /**
     * @param desired where the VM is meant to be: {@code running} or {@code stopped}
     */
    StatusPublisher(RunnerConfig config, Parts parts, Supplier<String> desired) {
        this.desired = desired;
        this.config = config;
        this.loop = parts.loop();
        this.life = parts.life();
        this.children = parts.children();
        this.monitor = parts.monitor();
        this.display = parts.display();
        this.live = parts.live();
        this.startNanos = loop.clock().nanoTime();
    }

    /**
     * Where the status finds a live migration's progress, and whether this runner waits for an
     * incoming guest (state {@code incoming}).
     */
    void migration(Supplier<MigrationStatus> migration, BooleanSupplier incoming) {
        this.migration = migration;
        this.incoming = incoming;
    }

    /** The latest status; any thread. */
    Status status() {
        return published;
    }

    /** {@code watcher} sees every status published from now on, on the loop thread. */
    void watch(Consumer<Status> watcher) {
        watchers.add(watcher);
    }

    /** How long the runner has run, by the loop's clock. */
    Duration elapsed() {
        return Duration.ofNanos(loop.clock().nanoTime() - startNanos);
    }

    /** For liveness: the loop takes an event within a second. Not on the loop thread. */
    boolean loopAnswers() {
        CountDownLatch answered = new CountDownLatch(1);
        loop.post(new Continuation(answered::countDown));
        try {
            return answered.await(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Makes the snapshot of now and hands it to the watchers. On the loop thread. */
    void publish() {
        LiveConfig.View view = live.view();
        var vm = live.current().vm();
        ChildProcess swtpm = children.named("swtpm");
        PowerdownLadder ladder = life.ladder;
        published =
                new Status(
                        vm.name(),
                        switch (life.state()) {
                            case STARTING -> incoming.getAsBoolean() ? "incoming" : "starting";
                            case BOOTING -> "starting";
                            case RUNNING -> "running";
                            case TERMINATING -> "stopping";
                            case STOPPED -> "stopped";
                        },
                        life.since(),
                        life.runnerStarted,
                        life.adoptedAt,
                        life.qemu == null ? null : life.qemu.pid(),
                        swtpm == null || !swtpm.isAlive() ? null : swtpm.pid(),
                        new Status.Ram(vm.maximumRam(), vm.currentRam(), view.ramActual()),
                        new Status.Cpus(vm.maximumCpus(), vm.currentCpus(), view.cpusPresent()),
                        view.drives(),
                        view.pending(),
                        view.needsRestart(),
                        view.lastChanges(),
                        ladder == null || ladder.escalated()
                                ? null
                                : Instant.now().plus(ladder.remaining()),
                        life.lastError,
                        life.guest == null ? null : life.guest.status(),
                        display.status(),
                        view.rejectedEdit(),
                        migration.get(),
                        desired.get());
        for (Consumer<Status> watcher : watchers) {
            try {
                watcher.accept(published);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "Status watcher failed: " + e, e);
            }
        }
    }

    /** One line on what the VM is doing, for SIGUSR1/SIGUSR2. */
    String statusLine() {
        StringBuilder line =
                new StringBuilder("VM ")
                        .append(config.vm().name())
                        .append(' ')
                        .append(life.state().label())
                        .append(", runner up ")
                        .append(elapsed().toSeconds())
                        .append(" s");
        if (life.qemu != null) {
            line.append(", QEMU pid ").append(life.qemu.pid());
        }
        RunnerConfig current = live.current();
        line.append(", RAM ")
                .append(Sizes.format(current.vm().currentRam()))
                .append(" of ")
                .append(Sizes.format(current.vm().maximumRam()))
                .append(", ")
                .append(current.vm().currentCpus())
                .append(" of ")
                .append(current.vm().maximumCpus())
                .append(" vCPUs, monitor ")
                .append(monitor.isOpen() ? "connected" : "not connected");
        if (life.ladder != null) {
            line.append(", powering down");
        }
        return line.toString();
    }
}
