package dev.vmrunner.supervisor;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.console.ConsoleTail;
import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.VcpuSlot;
import dev.vmrunner.status.State;
import dev.vmrunner.supervisor.Event.QmpClosed;
import dev.vmrunner.supervisor.claim.RunnerState;
import dev.vmrunner.supervisor.live.LiveConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * From a QEMU that runs (started paused, or found running) to a running VM, and its monitor kept
 * while it runs: the connection, the display password, {@code cont}, RUNNING, the guest agent's
 * watch; the state a later runner would need; a lost monitor connected again. Loop thread only.
 */
final class Boot implements Opening.Host {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** When after the VM runs the handling of a config change is rehearsed (off its start). */
    private static final Duration REHEARSAL_DELAY = Duration.ofSeconds(1);

    private final RunnerConfig config;
    private final Loop loop;
    private final Lifecycle life;
    private final Children children;
    private final MonitorLink monitor;
    private final DisplayAccess display;
    private final LiveConfig live;
    private final Teardown teardown;
    private final StatusPublisher publisher;
    private final Consumer<String> failStart;
    private final Supplier<Opening> opening;
    private RunnerState runnerState;
    private volatile Runnable warmUp = () -> {};
    private ConsoleTail console;

    /** What happens between QEMU's first connection and the configuring of a start. */
    private BiConsumer<Qmp, Runnable> receive = (qmp, then) -> then.run();

    Boot(
            RunnerConfig config,
            Parts parts,
            Teardown teardown,
            StatusPublisher publisher,
            Consumer<String> failStart,
            Supplier<Opening> opening) {
        this.config = config;
        this.loop = parts.loop();
        this.life = parts.life();
        this.children = parts.children();
        this.monitor = parts.monitor();
        this.display = parts.display();
        this.live = parts.live();
        this.teardown = teardown;
        this.publisher = publisher;
        this.failStart = failStart;
        this.opening = opening;
    }

    /**
     * A target of a live migration: before the start goes on, the guest is received ({@code
     * Incoming#receive}).
     */
    void receiveFirst(BiConsumer<Qmp, Runnable> receive) {
        this.receive = receive;
    }

    @Override
    public void failStart(String message) {
        failStart.accept(message);
    }

    /** Connects to QEMU's monitor (off the loop) and keeps the state a later runner needs. */
    @Override
    public void qemuStarted(
            ChildProcess qemu,
            RunnerState state,
            Set<VcpuSlot> emptied,
            Supplier<ConsoleTail> tail) {
        life.qemu = qemu;
        life.ending.qemuStarted = true;
        runnerState = state;
        keepState(emptied);
        monitor.connect();
        console = tail.get();
    }

    /** The state a runner adopting this QEMU would need, kept from now on. */
    private void keepState(Set<VcpuSlot> emptied) {
        runnerState.write(config.runtimeDir());
        live.keepState(
                applied -> {
                    runnerState =
                            runnerState.withApplied(new String(applied, StandardCharsets.UTF_8));
                    runnerState.write(config.runtimeDir());
                },
                emptied,
                slots -> {
                    runnerState = runnerState.withEmptied(slots);
                    runnerState.write(config.runtimeDir());
                });
        teardown.keepStopping(
                stop -> {
                    runnerState = runnerState.withStopping(stop);
                    runnerState.write(config.runtimeDir());
                });
    }

    void onQmpReady(Event.QmpReady ready) {
        Qmp qmp = monitor.ready(ready.connection());
        if (qmp == null) {
            reconnect("the connection closed at once");
        } else if (life.state() == State.STARTING && opening.get().vcpusRun()) {
            life.moveTo(State.BOOTING);
            becameRunning(qmp);
        } else if (life.state() == State.STARTING) {
            // What must hold before the guest runs (the display password), then the vCPUs run.
            receive.accept(
                    qmp,
                    () -> loop.whenDone(display.configure(qmp), (ok, error) -> continueVm(qmp)));
        } else if (life.state() == State.RUNNING) {
            LOG.info("Connected to QEMU's monitor again");
            live.onReconnected(qmp);
        }
    }

    /** Lets the vCPUs run: the VM is configured. */
    private void continueVm(Qmp qmp) {
        if (life.state() != State.STARTING) {
            return;
        }
        life.moveTo(State.BOOTING);
        loop.whenDone(
                qmp.cont(),
                (ok, error) -> {
                    if (error != null && life.state() == State.BOOTING) {
                        LOG.severe("Failed to start the vCPUs (QMP cont): " + error.getMessage());
                        life.ending.startFailed = true;
                        teardown.startPowerdown();
                    } else if (life.state() == State.BOOTING) {
                        becameRunning(qmp);
                    }
                });
    }

    private void becameRunning(Qmp qmp) {
        life.moveTo(State.RUNNING);
        live.onRunning(qmp);
        display.watch(monitor::qmp);
        life.guest =
                GuestWatch.ifChannel(
                        loop, config.runtimeDir().resolve(RuntimeFiles.GUEST_AGENT), life.facts);
        if (life.guest != null) {
            life.guest.start();
        }
        LOG.info(
                () ->
                        "VM "
                                + config.vm().name()
                                + " is running (QEMU pid "
                                + life.qemu.pid()
                                + (life.adoptedAt != null ? ", adopted" : "")
                                + ", "
                                + publisher.elapsed().toMillis()
                                + " ms after start)");
        byte[] now = opening.get().toApply();
        if (now != null) {
            live.onFileChanged(now, false);
        }
        var unused = loop.schedule(REHEARSAL_DELAY, warmUp);
    }

    /** The start code's warm-up of a config edit, run on the loop a second after the VM runs. */
    void warmUpOnceRunning(Runnable warmUp) {
        this.warmUp = warmUp;
    }

    void onQmpConnectFailed(Throwable cause) {
        monitor.connectFailed();
        if (life.state() == State.STARTING) {
            failStart.accept("Failed to connect to QEMU's monitor: " + cause.getMessage());
        } else {
            reconnect(cause.getMessage());
        }
    }

    void onQmpClosed(QmpClosed closed) {
        boolean unexpected = monitor.closed(closed.connection(), closed.cause());
        if (opening.get().monitorClosed()) {
            return;
        }
        if (life.qemu != null && children.hasExited(life.qemu)) {
            teardown.monitorClosed();
        } else if (unexpected) {
            String cause = String.valueOf(closed.cause().getMessage());
            LOG.warning(() -> "Lost the connection to QEMU's monitor (" + cause + ")");
            reconnect(cause);
        } else {
            LOG.fine("QMP connection closed");
        }
    }

    /**
     * Without its monitor the runner cannot power the guest down: connect again while QEMU lives.
     * During a start a lost monitor is a failed start instead.
     */
    @Override
    public void reconnect(String why) {
        if (life.state() == State.STARTING) {
            failStart.accept("Failed to talk to QEMU's monitor during start: " + why);
        } else if (life.qemu != null
                && !children.hasExited(life.qemu)
                && life.state() != State.STOPPED) {
            LOG.info("Connecting to QEMU's monitor again");
            monitor.reconnectLater();
        }
    }

    /** After the run: stops following the console log. */
    void close() {
        if (console != null) {
            console.close();
        }
    }
}
