package dev.vmrunner.supervisor;

import com.google.gson.JsonObject;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.QmpConnection;
import dev.vmrunner.qmp.QmpEvent;
import dev.vmrunner.status.State;
import dev.vmrunner.supervisor.Event.ChildExited;
import dev.vmrunner.supervisor.Event.Continuation;
import dev.vmrunner.supervisor.Event.QmpClosed;
import dev.vmrunner.supervisor.Event.QmpConnectFailed;
import dev.vmrunner.supervisor.Event.QmpEventArrived;
import dev.vmrunner.supervisor.Event.QmpReady;
import dev.vmrunner.supervisor.Event.SignalReceived;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts and supervises the processes of one VM. All state lives on one loop thread; signals,
 * process exits and QMP traffic arrive as {@link Event}s. {@link #run} returns how it ended.
 */
public final class Supervisor {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private final RunnerConfig config;
    private final Commands commands;
    private final Timeouts timeouts;
    private final Loop loop = new Loop();
    private final RuntimeDir runtimeDir;
    private final Children children;

    /** Helpers that run to completion during start (swtpm_setup, the seed image). */
    private final long startNanos = System.nanoTime();

    private State state = State.STARTING;
    private ChildProcess qemu;
    private QmpConnection connection;
    private Qmp qmp;
    private PowerdownLadder ladder;
    private ExitCode outcome;
    private boolean guestPoweredOff;
    private Loop.Timer qmpCloseWait;
    private final LiveConfig live;
    private boolean qemuExitHandled;

    public Supervisor(
            RunnerConfig config,
            Commands commands,
            ChildProcess.Starter starter,
            Timeouts timeouts) {
        this.config = config;
        this.commands = commands;
        this.children = new Children(loop, starter, timeouts.killGrace());
        this.timeouts = timeouts;
        this.runtimeDir = new RuntimeDir(config.runtimeDir());
        this.live =
                new LiveConfig(
                        loop,
                        config,
                        System.getenv(),
                        timeout -> {
                            if (ladder != null) {
                                ladder.setTimeout(timeout);
                            }
                        });
    }

    /** The configuration file has new content. Callable from any thread. */
    public void configFileChanged(byte[] content) {
        loop.post(new Event.ConfigFileChanged(content));
    }

    /** Asks for a graceful stop, as SIGTERM does. Callable from any thread. */
    public void signal(String name) {
        loop.post(new SignalReceived(name));
    }

    /** Runs the VM until it has stopped. Cleans up whatever happens. */
    public ExitCode run() {
        try {
            runtimeDir.claim();
        } catch (IOException e) {
            LOG.severe(
                    "Failed to prepare runtime directory "
                            + config.runtimeDir()
                            + ": "
                            + e.getMessage());
            return ExitCode.START_FAILURE;
        }
        try {
            new StartSequence(
                            config,
                            commands,
                            timeouts.helperStart(),
                            loop,
                            children,
                            new StartSequence.Host() {
                                @Override
                                public boolean starting() {
                                    return state == State.STARTING;
                                }

                                @Override
                                public void failStart(String message) {
                                    Supervisor.this.failStart(message);
                                }

                                @Override
                                public void qemuStarted(ChildProcess qemu) {
                                    Supervisor.this.qemuStarted(qemu);
                                }
                            })
                    .begin();
            loop.run(this::handle, () -> state == State.STOPPED);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            decide(ExitCode.INTERNAL);
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "Internal error: " + e, e);
            decide(ExitCode.INTERNAL);
        } finally {
            children.killLeftovers();
            if (connection != null) {
                connection.close();
            }
            runtimeDir.remove();
        }
        LOG.info(() -> "Runner stopped (" + outcome + ", exit code " + outcome.code() + ")");
        return outcome;
    }

    // ---- start sequence ----------------------------------------------------------------

    /** QEMU runs (paused): connect to its monitor, off the loop. */
    private void qemuStarted(ChildProcess started) {
        qemu = started;
        Path socket = config.runtimeDir().resolve("monitor.sock");
        Thread connector = new Thread(() -> connectQmp(socket), "qmp-connect");
        connector.setDaemon(true);
        connector.start();
    }

    private void connectQmp(Path socket) {
        try {
            QmpConnection c =
                    QmpConnection.connect(
                            socket,
                            timeouts.qmpConnect(),
                            new QmpConnection.Listener() {
                                @Override
                                public void onEvent(QmpEvent event) {
                                    loop.post(new QmpEventArrived(event));
                                }

                                @Override
                                public void onDisconnect(Throwable cause) {
                                    loop.post(new QmpClosed(cause));
                                }
                            });
            loop.post(new QmpReady(c));
        } catch (Exception e) {
            loop.post(new QmpConnectFailed(e));
        }
    }

    private void onQmpReady(QmpConnection c) {
        connection = c;
        qmp = new Qmp(c, timeouts.qmpCommand());
        if (state != State.STARTING) {
            return;
        }
        String ticket = spiceTicket();
        if (ticket == null) {
            continueVm();
            return;
        }
        loop.whenDone(
                qmp.setSpicePassword(ticket),
                (ok, error) -> {
                    if (error != null) {
                        failStart("Failed to set the SPICE password: " + error.getMessage());
                    } else {
                        continueVm();
                    }
                });
    }

    /** Lets the vCPUs run: the VM is configured. */
    private void continueVm() {
        if (state != State.STARTING) {
            return;
        }
        moveTo(State.BOOTING);
        loop.whenDone(
                qmp.cont(),
                (ok, error) -> {
                    if (error != null) {
                        failStart("Failed to start the vCPUs (QMP cont): " + error.getMessage());
                    } else if (state == State.BOOTING) {
                        moveTo(State.RUNNING);
                        live.onRunning(qmp);
                        LOG.info(
                                () ->
                                        "VM "
                                                + config.vm().name()
                                                + " is running (QEMU pid "
                                                + qemu.pid()
                                                + ", "
                                                + Duration.ofNanos(System.nanoTime() - startNanos)
                                                        .toMillis()
                                                + " ms after start)");
                    }
                });
    }

    private String spiceTicket() {
        var display = config.vm().display();
        return display == null || display.spice() == null ? null : display.spice().ticket();
    }

    // ---- events ------------------------------------------------------------------------

    private void handle(Event event) {
        if (event instanceof SignalReceived s) {
            onSignal(s.name());
        } else if (event instanceof ChildExited e) {
            onChildExited(e.child());
        } else if (event instanceof QmpReady r) {
            onQmpReady(r.connection());
        } else if (event instanceof QmpConnectFailed f) {
            if (state == State.STARTING) {
                failStart("Failed to connect to QEMU's monitor: " + f.cause().getMessage());
            }
        } else if (event instanceof QmpEventArrived a) {
            onQmpEvent(a.event());
        } else if (event instanceof QmpClosed) {
            LOG.fine("QMP connection closed");
            if (qemu != null && children.hasExited(qemu)) {
                onQemuExited(qemu.exitCode());
            }
            maybeStopped();
        } else if (event instanceof Event.ConfigFileChanged f) {
            live.onFileChanged(f.content(), state == State.TERMINATING || state == State.STOPPED);
        } else if (event instanceof Continuation c) {
            c.action().run();
        }
    }

    private void onSignal(String name) {
        LOG.info(() -> "Received SIG" + name);
        switch (state) {
            case STARTING -> {
                LOG.info("Stopping before the guest ran");
                decide(ExitCode.CLEAN);
                terminateAll();
            }
            case BOOTING, RUNNING -> {
                moveTo(State.TERMINATING);
                live.onTerminating();
                ladder =
                        new PowerdownLadder(
                                loop,
                                new QemuRungs(),
                                Duration.ofSeconds(live.current().vm().powerdownTimeout()),
                                timeouts.powerdownRepress(),
                                timeouts.killGrace());
                ladder.start();
            }
            case TERMINATING -> {
                if (ladder != null) {
                    ladder.again();
                } else {
                    LOG.info("Already stopping");
                }
            }
            case STOPPED -> {}
        }
    }

    private void onQmpEvent(QmpEvent event) {
        live.onQmpEvent(event);
        if ("SHUTDOWN".equals(event.name())) {
            JsonObject data = event.data();
            boolean guest = data != null && data.has("guest") && data.get("guest").getAsBoolean();
            String reason =
                    data != null && data.has("reason")
                            ? data.get("reason").getAsString()
                            : "unknown";
            LOG.info(
                    () ->
                            "QEMU reports shutdown ("
                                    + reason
                                    + (guest ? ", by the guest" : "")
                                    + ")");
            guestPoweredOff = guest && "guest-shutdown".equals(reason);
        } else if ("POWERDOWN".equals(event.name())) {
            LOG.fine("Power button pressed");
        } else {
            LOG.fine(() -> "QMP event " + event.name() + " " + event.data());
        }
    }

    private void onChildExited(ChildProcess child) {
        children.exited(child);
        int code = child.exitCode();
        if (child == qemu) {
            // QEMU's last events (SHUTDOWN says whether the guest powered off) may still be
            // in flight; they are all in once the connection has closed.
            if (connection != null && connection.isOpen()) {
                loop.schedule(Duration.ofMillis(500), () -> onQemuExited(code));
            } else {
                onQemuExited(code);
            }
            return;
        } else if (state == State.STARTING && children.oneShot(child) != null) {
            Children.OneShot step = children.oneShot(child);
            if (code == 0) {
                step.then().run();
            } else {
                failStart(
                        "Failed "
                                + step.purpose()
                                + ": "
                                + Children.describeExit(child, code)
                                + " (command: "
                                + String.join(" ", step.spec().argv())
                                + ")"
                                + Children.lastWords(child));
            }
        } else if (children.oneShot(child) != null && code == 0) {
            LOG.fine(() -> child.name() + " finished");
        } else if (state == State.STARTING) {
            failStart(
                    Children.describeExit(child, code)
                            + " during start"
                            + Children.lastWords(child));
        } else if (state != State.TERMINATING) {
            LOG.warning(
                    () ->
                            Children.describeExit(child, code)
                                    + " while the VM runs"
                                    + Children.lastWords(child));
        }
        maybeStopped();
    }

    private void onQemuExited(int code) {
        if (qemuExitHandled) {
            return;
        }
        qemuExitHandled = true;
        if (ladder != null) {
            ladder.finish();
        }
        if (ladder != null && ladder.escalated()) {
            decide(ExitCode.POWERDOWN_TIMEOUT);
        } else if (outcome != null) {
            // A stop during start, or a failed start: already decided and reported.
            LOG.fine(() -> Children.describeExit(qemu, code));
        } else if (state == State.STARTING) {
            failStart(
                    Children.describeExit(qemu, code) + " during start" + Children.lastWords(qemu));
        } else if (guestPoweredOff && code == 0) {
            LOG.info(() -> "The guest powered off" + (ladder != null ? " as asked" : ""));
            decide(ExitCode.CLEAN);
        } else {
            LOG.severe(
                    () ->
                            Children.describeExit(qemu, code)
                                    + " unexpectedly"
                                    + Children.lastWords(qemu));
            decide(ExitCode.QEMU_FAILED);
        }
        if (state != State.TERMINATING) {
            moveTo(State.TERMINATING);
        }
        stopHelpers();
    }

    // ---- stopping ----------------------------------------------------------------------

    private void failStart(String message) {
        LOG.severe(message);
        decide(ExitCode.START_FAILURE);
        terminateAll();
    }

    /** Ends every child: SIGTERM now, SIGKILL after the grace period. */
    private void terminateAll() {
        if (state != State.TERMINATING) {
            moveTo(State.TERMINATING);
        }
        children.terminateAll();
        maybeStopped();
    }

    /** swtpm ends by itself when QEMU is gone (--terminate); else it is asked to. */
    private void stopHelpers() {
        children.terminateAllAfter(timeouts.helperStop());
        maybeStopped();
    }

    /**
     * The VM has stopped once no child is left. QEMU's last QMP events (SHUTDOWN) may still be in
     * flight after its exit, so the connection gets a moment to close first.
     */
    private void maybeStopped() {
        if (state != State.TERMINATING
                || !children.allExited()
                || qemu != null && !qemuExitHandled) {
            return;
        }
        if (connection != null && connection.isOpen() && qmpCloseWait == null) {
            qmpCloseWait =
                    loop.schedule(
                            Duration.ofMillis(500),
                            () -> {
                                connection.close();
                                maybeStopped();
                            });
            return;
        }
        if (connection != null && connection.isOpen()) {
            return;
        }
        if (qmpCloseWait != null) {
            qmpCloseWait.cancel();
        }
        decide(ExitCode.INTERNAL);
        state = state.moveTo(State.STOPPED);
    }

    /** Records the outcome; the first decision wins. */
    private void decide(ExitCode code) {
        if (outcome == null) {
            outcome = code;
        }
    }

    private void moveTo(State next) {
        State previous = state;
        state = state.moveTo(next);
        LOG.fine(() -> "State " + previous.label() + " -> " + next.label());
    }

    /** The ladder's rungs, applied to this VM's QEMU. */
    private final class QemuRungs implements PowerdownLadder.Rungs {
        @Override
        public void pressPowerButton() {
            if (qmp != null && connection.isOpen()) {
                loop.whenDone(
                        qmp.systemPowerdown(),
                        (ok, error) -> {
                            if (error != null) {
                                LOG.warning(
                                        () ->
                                                "Failed to press the power button: "
                                                        + error.getMessage());
                            }
                        });
            }
        }

        @Override
        public void terminateQemu() {
            if (qemu.isAlive()) {
                qemu.terminate();
            }
        }

        @Override
        public void killQemu() {
            if (qemu.isAlive()) {
                qemu.kill();
            }
        }
    }
}
