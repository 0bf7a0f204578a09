package dev.vmrunner.supervisor;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.HttpAddress;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.console.ConsoleTail;
import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.TpmSetup;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.QmpStats;
import dev.vmrunner.qmp.VmEvent;
import dev.vmrunner.status.ExitCode;
import dev.vmrunner.status.State;
import dev.vmrunner.status.Status;
import dev.vmrunner.supervisor.Event.ChildExited;
import dev.vmrunner.supervisor.Event.Continuation;
import dev.vmrunner.supervisor.Event.QmpClosed;
import dev.vmrunner.supervisor.Event.QmpConnectFailed;
import dev.vmrunner.supervisor.Event.QmpEventArrived;
import dev.vmrunner.supervisor.Event.QmpReady;
import dev.vmrunner.supervisor.Event.SignalReceived;
import dev.vmrunner.supervisor.claim.AdoptedProcess;
import dev.vmrunner.supervisor.claim.Adoption;
import dev.vmrunner.supervisor.claim.RunnerState;
import dev.vmrunner.supervisor.claim.VmClaim;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts and supervises the processes of one VM. All state lives on one loop thread; signals,
 * process exits and QMP traffic arrive as {@link Event}s. {@link #run} returns how it ended,
 * decided once from the {@link Ending}.
 */
public final class Supervisor {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** QEMU's last QMP events (SHUTDOWN) may still be in flight when its exit is seen. */
    private static final Duration LAST_EVENTS = Duration.ofMillis(500);

    /** swtpm ends with QEMU; an exit seen just before QEMU's is not a failure. */
    private static final Duration HELPER_EXIT_GRACE = Duration.ofSeconds(1);

    /** When after the VM runs the handling of a config change is rehearsed (off its start). */
    private static final Duration REHEARSAL_DELAY = Duration.ofSeconds(1);

    private final RunnerConfig config;
    private final Commands commands;
    private final Timeouts timeouts;
    private final Loop loop;
    private final VmClaim claim;
    private final Children children;
    private final MonitorLink monitor;
    private final LiveConfig live;
    private final Adoption adoption;
    private final String content;
    private byte[] adoptedContent;
    private RunnerState runnerState;

    private final Lifecycle life = new Lifecycle();
    private final Ending ending = life.ending;
    private boolean shutdownSeen;
    private Loop.Timer qmpCloseWait;
    private boolean qemuExitHandled;
    private final DisplayAccess display;
    private final StatusPublisher publisher;
    private final StatusServers servers;
    private ConsoleTail console;

    /** The console log QEMU is to write: followed from its start once QEMU runs. */
    private Path consoleLogToFollow;

    private final QmpStats qmpStats = new QmpStats();

    /**
     * @param claim this runner's claim on the VM ({@link VmClaim#acquire}); released at the end
     */
    /**
     * @param content the configuration file's content that {@code config} came from
     */
    public Supervisor(
            RunnerConfig config,
            byte[] content,
            Commands commands,
            ChildProcess.Starter starter,
            Timeouts timeouts,
            VmClaim claim) {
        this(config, content, commands, starter, timeouts, claim, null, Clock.SYSTEM);
    }

    /**
     * A supervisor that adopts the QEMU an earlier runner left running instead of starting one.
     *
     * @param content the configuration file's content now; applied once QEMU is adopted
     */
    public static Supervisor adopting(
            RunnerConfig config,
            byte[] content,
            Adoption adoption,
            Timeouts timeouts,
            VmClaim claim) {
        Supervisor s =
                new Supervisor(
                        adoption.applied(),
                        content,
                        null,
                        spec -> null,
                        timeouts,
                        claim,
                        adoption,
                        Clock.SYSTEM);
        s.adoptedContent = content;
        return s;
    }

    Supervisor(
            RunnerConfig config,
            byte[] content,
            Commands commands,
            ChildProcess.Starter starter,
            Timeouts timeouts,
            VmClaim claim,
            Adoption adoption,
            Clock clock) {
        this.config = config;
        this.content = new String(content, StandardCharsets.UTF_8);
        this.adoption = adoption;
        this.commands = commands;
        this.timeouts = timeouts;
        this.claim = claim;
        this.loop = new Loop(clock);
        this.children = new Children(loop, starter, timeouts.killGrace());
        this.monitor = new MonitorLink(loop, RuntimeFiles.monitor(config), timeouts, qmpStats);
        this.display = new DisplayAccess(loop, config);
        this.live =
                new LiveConfig(
                        loop,
                        adoption == null ? config : adoption.started(),
                        config,
                        System.getenv(),
                        timeout -> {
                            if (life.ladder != null) {
                                life.ladder.setTimeout(timeout);
                            }
                        });
        this.publisher = new StatusPublisher(config, loop, life, children, monitor, display, live);
        this.servers =
                new StatusServers(
                        publisher::status,
                        publisher::loopAnswers,
                        qmpStats,
                        live.counted::snapshot);
        publisher.watch(servers::published);
        loop.afterEach(publisher::publish);
    }

    /** The configuration file has new content. Callable from any thread. */
    public void configFileChanged(byte[] content) {
        loop.post(new Event.ConfigFileChanged(content));
    }

    /** A signal arrived (TERM, INT, HUP, USR1, ...; see {@link SignalMeaning}). Any thread. */
    public void signal(String name) {
        loop.post(new SignalReceived(name));
    }

    /** The latest status; any thread. */
    public Status status() {
        return publisher.status();
    }

    /** Serves the HTTP endpoints at {@code address} once QEMU runs; null for none. Before run. */
    public void serveHttp(HttpAddress address) {
        servers.http(address);
    }

    /**
     * Calls {@code watcher} on the loop thread with every status the loop publishes (after every
     * event), from the first on. It must return quickly and must not block; what it throws is
     * logged and survived.
     */
    public void watchStatus(Consumer<Status> watcher) {
        publisher.watch(watcher);
    }

    /** Runs the VM until it has stopped. Cleans up whatever happens. */
    public ExitCode run() {
        publisher.publish();
        servers.serveSocket(config.runtimeDir());
        try {
            if (adoption != null) {
                adopt();
            } else {
                start();
            }
            runLoop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.severe("Interrupted while supervising the VM");
        } finally {
            display.close();
            if (console != null) {
                console.close();
            }
            if (life.guest != null) {
                life.guest.close();
            }
            monitor.close();
            servers.close();
            endLeftovers();
            if (adoption == null) {
                TpmSetup.discardStaging(config);
            }
            if (claim != null) {
                claim.release();
            }
        }
        ExitCode code = life.state() == State.STOPPED ? ending.exitCode() : ExitCode.INTERNAL;
        LOG.info(() -> "Runner stopped (" + code + ", exit code " + code.code() + ")");
        return code;
    }

    private void start() {
        Path consoleLog = ConsoleTail.logFile(commands.qemu().arguments(), config.runtimeDir());
        if (consoleLog != null) {
            // QEMU appends (logappend=on, so that the file can be truncated once read): what it
            // holds is this run's console only, as with a console file QEMU truncates itself.
            try {
                Files.deleteIfExists(consoleLog);
            } catch (IOException e) {
                LOG.fine(() -> "Failed to remove " + consoleLog + ": " + e.getMessage());
            }
            consoleLogToFollow = consoleLog; // once QEMU runs: off the way to its start
        } else {
            LOG.fine("The template gives the serial console no log file: not copied to the log");
        }
        new StartSequence(
                        config,
                        commands,
                        timeouts.helperStart(),
                        loop,
                        children,
                        new StartSequence.Host() {
                            @Override
                            public boolean starting() {
                                return life.state() == State.STARTING;
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
    }

    /** Takes on the QEMU (and swtpm) an earlier runner left running. */
    private void adopt() {
        life.qemu = AdoptedProcess.of("qemu", adoption.qemu().pid());
        life.adoptedAt = Instant.now();
        if (life.qemu == null) {
            life.error("QEMU (pid " + adoption.qemu().pid() + ") ended before it could be adopted");
            life.moveTo(State.TERMINATING);
            life.moveTo(State.STOPPED);
            return;
        }
        LOG.info(
                () ->
                        "Adopting QEMU (pid "
                                + life.qemu.pid()
                                + ") of VM "
                                + config.vm().name()
                                + ", left running by an earlier runner; QEMU is "
                                + adoption.runState());
        children.adopt(life.qemu);
        Path consoleLog = config.dataDir().resolve("console.log");
        if (Files.exists(consoleLog)) {
            console = ConsoleTail.follow(consoleLog, false);
        }
        if (adoption.swtpmPid() != null) {
            ChildProcess swtpm = AdoptedProcess.of("swtpm", adoption.swtpmPid());
            if (swtpm != null) {
                children.adopt(swtpm);
            }
        }
        ending.qemuStarted = true;
        runnerState =
                new RunnerState(
                        adoption.startedContent(),
                        adoption.appliedContent(),
                        adoption.emptiedSlots() == null ? Set.of() : adoption.emptiedSlots());
        keepState(adoption.emptiedSlots());
        monitor.connect();
    }

    /** The state a runner adopting this QEMU would need, kept from now on. */
    private void keepState(Set<String> emptied) {
        runnerState.write(config.runtimeDir());
        live.keepState(
                content -> {
                    runnerState =
                            runnerState.withApplied(new String(content, StandardCharsets.UTF_8));
                    runnerState.write(config.runtimeDir());
                },
                emptied,
                slots -> {
                    runnerState = runnerState.withEmptied(slots);
                    runnerState.write(config.runtimeDir());
                });
    }

    /**
     * The loop guards every handler itself; this guards the loop: whatever escapes it (an Error
     * thrown between handlers) is logged and the loop goes on, because ending it would leave QEMU
     * without its runner.
     */
    @SuppressWarnings("CatchingUnchecked") // see above
    private void runLoop() throws InterruptedException {
        while (life.state() != State.STOPPED) {
            try {
                loop.run(this::handle, () -> life.state() == State.STOPPED);
            } catch (RuntimeException | Error e) {
                LOG.log(Level.SEVERE, "Internal error in the supervisor's loop: " + e, e);
            }
        }
    }

    /**
     * Only a QEMU that is gone lets the runner end its helpers: a QEMU still alive here (the loop
     * was interrupted) is left running rather than killed without a powerdown.
     */
    private void endLeftovers() {
        if (life.qemu != null && life.qemu.isAlive()) {
            LOG.severe(
                    () ->
                            "QEMU (pid "
                                    + life.qemu.pid()
                                    + ") is left running: the runner ends without having stopped"
                                    + " it");
            return;
        }
        children.killLeftovers();
    }

    // ---- start sequence ----------------------------------------------------------------

    /** QEMU runs (paused): connect to its monitor, off the loop. */
    private void qemuStarted(ChildProcess started) {
        life.qemu = started;
        ending.qemuStarted = true;
        runnerState = new RunnerState(content, content, Set.of());
        keepState(Set.of());
        monitor.connect();
        if (consoleLogToFollow != null && console == null) {
            console = ConsoleTail.follow(consoleLogToFollow, true);
        }
    }

    private void onQmpReady(Event.QmpReady ready) {
        Qmp qmp = monitor.ready(ready.connection());
        if (qmp == null) {
            reconnectIfQemuLives("the connection closed at once");
            return;
        }
        if (life.state() == State.STARTING
                && adoption != null
                && !adoption.runState().equals("prelaunch")) {
            life.moveTo(State.BOOTING);
            becameRunning(qmp);
        } else if (life.state() == State.STARTING) {
            configureAndContinue(qmp);
        } else if (life.state() == State.RUNNING) {
            LOG.info("Connected to QEMU's monitor again");
            live.onReconnected(qmp);
        }
    }

    /** What must hold before the guest runs (the display password), then the vCPUs run. */
    private void configureAndContinue(Qmp qmp) {
        loop.whenDone(display.configure(qmp), (ok, error) -> continueVm(qmp));
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
                        ending.startFailed = true;
                        startPowerdown();
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
                GuestWatch.ifChannel(loop, config.runtimeDir().resolve(RuntimeFiles.GUEST_AGENT));
        if (life.guest != null) {
            life.guest.start();
        }
        LOG.info(
                () ->
                        "VM "
                                + config.vm().name()
                                + " is running (QEMU pid "
                                + life.qemu.pid()
                                + (adoption != null ? ", adopted" : "")
                                + ", "
                                + publisher.elapsed().toMillis()
                                + " ms after start)");
        if (adoptedContent != null) {
            // What the file says now, against what the earlier runner applied and QEMU reports.
            live.onFileChanged(adoptedContent, false);
            adoptedContent = null;
        }
        byte[] rehearsed = content.getBytes(StandardCharsets.UTF_8);
        var unused = loop.schedule(REHEARSAL_DELAY, () -> live.rehearse(rehearsed));
    }

    // ---- events ------------------------------------------------------------------------

    private void handle(Event event) {
        if (event instanceof SignalReceived s) {
            onSignal(s.name());
        } else if (event instanceof ChildExited e) {
            onChildExited(e.child());
        } else if (event instanceof QmpReady r) {
            onQmpReady(r);
        } else if (event instanceof QmpConnectFailed f) {
            monitor.connectFailed();
            if (life.state() == State.STARTING) {
                failStart("Failed to connect to QEMU's monitor: " + f.cause().getMessage());
            } else {
                reconnectIfQemuLives(f.cause().getMessage());
            }
        } else if (event instanceof QmpEventArrived a) {
            onQmpEvent(a.event());
        } else if (event instanceof QmpClosed c) {
            onQmpClosed(c);
        } else if (event instanceof Event.ConfigFileChanged f) {
            live.onFileChanged(
                    f.content(),
                    life.state() == State.TERMINATING || life.state() == State.STOPPED);
        } else if (event instanceof Continuation c) {
            c.action().run();
        }
    }

    private void onSignal(String name) {
        switch (SignalMeaning.of(name)) {
            case STOP -> onStopSignal(name);
            case RELOAD -> reload(name);
            case REPORT -> LOG.info(() -> "SIG" + name + ": " + publisher.statusLine());
            case IGNORE -> LOG.info(() -> "SIG" + name + " received and ignored");
        }
    }

    private void onStopSignal(String name) {
        LOG.info(() -> "Received SIG" + name);
        switch (life.state()) {
            case STARTING -> {
                LOG.info("Stopping before the guest ran");
                ending.stoppedBeforeRun = true;
                terminateAll();
            }
            case BOOTING, RUNNING -> startPowerdown();
            case TERMINATING -> {
                if (life.ladder != null) {
                    life.ladder.again();
                } else {
                    LOG.info("Already stopping");
                }
            }
            case STOPPED -> {}
        }
    }

    /** SIGHUP, as daemons do: read the configuration file again now. Read off the loop. */
    private void reload(String name) {
        LOG.info(() -> "SIG" + name + ": reading " + config.configFile() + " again");
        Thread reader =
                new Thread(
                        () -> {
                            try {
                                configFileChanged(ConfigLoader.readFile(config.configFile()));
                            } catch (ConfigException e) {
                                LOG.warning(
                                        () ->
                                                "Failed to read the configuration again: "
                                                        + e.getMessage());
                            }
                        },
                        "config-reload");
        reader.setDaemon(true);
        reader.start();
    }

    private void onQmpEvent(VmEvent event) {
        live.onQmpEvent(event);
        if (event instanceof VmEvent.Shutdown s) {
            LOG.info(
                    () ->
                            "QEMU reports shutdown ("
                                    + s.reason()
                                    + (s.guest() ? ", by the guest" : "")
                                    + ")");
            shutdownSeen = true;
            ending.guestPoweredOff = s.guestPoweredOff();
        } else if (event instanceof VmEvent.Powerdown) {
            LOG.fine("Power button pressed");
        } else if (event instanceof VmEvent.Reset r) {
            LOG.info(() -> "The VM was reset" + (r.guest() ? " by the guest" : ""));
            if (life.guest != null && life.state() == State.RUNNING) {
                life.guest.reset();
            }
        } else if (event instanceof VmEvent.SerialPortChanged port) {
            if (port.open() && life.guest != null) {
                life.guest.portOpened();
            }
        } else if (event instanceof VmEvent.SpiceClient && monitor.qmp() != null) {
            display.clientsChanged(monitor.qmp());
        } else {
            LOG.fine(() -> "QMP event " + event);
        }
    }

    private void onQmpClosed(QmpClosed closed) {
        boolean unexpected = monitor.closed(closed.connection(), closed.cause());
        if (life.qemu instanceof AdoptedProcess adopted && !children.hasExited(life.qemu)) {
            // Not the runner's child: its end is noticed, not waited for. Look now, and again
            // shortly, as it closes its socket just before it exits.
            watchAdoptedExit(adopted, 100);
            return;
        }
        if (life.qemu != null && children.hasExited(life.qemu)) {
            onQemuExited();
        } else if (unexpected) {
            String cause = String.valueOf(closed.cause().getMessage());
            LOG.warning(() -> "Lost the connection to QEMU's monitor (" + cause + ")");
            reconnectIfQemuLives(cause);
        } else {
            LOG.fine("QMP connection closed");
        }
        maybeStopped();
    }

    private void watchAdoptedExit(AdoptedProcess adopted, int looksLeft) {
        adopted.checkGone();
        if (adopted.isAlive() && looksLeft > 0) {
            loop.schedule(Duration.ofMillis(50), () -> watchAdoptedExit(adopted, looksLeft - 1));
        } else if (adopted.isAlive() && !children.hasExited(life.qemu)) {
            LOG.warning("Lost the connection to the adopted QEMU's monitor; QEMU still runs");
            reconnectIfQemuLives("the monitor closed");
        }
    }

    /**
     * Without its monitor the runner cannot power the guest down: connect again while QEMU lives.
     * During a start a lost monitor is a failed start instead.
     */
    private void reconnectIfQemuLives(String why) {
        if (life.state() == State.STARTING) {
            failStart("Failed to talk to QEMU's monitor during start: " + why);
        } else if (life.qemu != null
                && !children.hasExited(life.qemu)
                && life.state() != State.STOPPED) {
            LOG.info("Connecting to QEMU's monitor again");
            monitor.reconnectLater();
        }
    }

    private void onChildExited(ChildProcess child) {
        children.exited(child);
        int code = child.exitCode();
        Children.OneShot step = children.oneShot(child);
        if (child == life.qemu) {
            if (child.exitStatusKnown()) {
                ending.qemuExit = OptionalInt.of(code);
            }
            // QEMU's last events (SHUTDOWN says whether the guest powered off) may still be in
            // flight; they are all in once the connection has closed.
            if (monitor.hasConnection()) {
                loop.schedule(LAST_EVENTS, this::onQemuExited);
            } else {
                onQemuExited();
            }
            return;
        } else if (life.state() == State.STARTING && step != null) {
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
        } else if (step != null && code == 0) {
            LOG.fine(() -> child.name() + " finished");
        } else if (life.state() == State.STARTING) {
            failStart(
                    Children.describeExit(child, code)
                            + " during start"
                            + Children.lastWords(child));
        } else if (life.state() == State.BOOTING || life.state() == State.RUNNING) {
            // swtpm ends by itself when QEMU goes; its exit may be seen just before QEMU's.
            loop.schedule(HELPER_EXIT_GRACE, () -> helperEnded(child, code));
        }
        maybeStopped();
    }

    /** A helper (swtpm) ended while QEMU still runs: the guest has lost a device it relies on. */
    private void helperEnded(ChildProcess child, int code) {
        if (shutdownSeen
                || life.qemu == null
                || children.hasExited(life.qemu)
                || life.state() == State.TERMINATING
                || life.state() == State.STOPPED) {
            return;
        }
        life.error(
                Children.describeExit(child, code)
                        + " while the VM runs; the guest has lost its TPM, so the VM is"
                        + " powered down"
                        + Children.lastWords(child));
        ending.helperFailed = true;
        startPowerdown();
    }

    private void onQemuExited() {
        if (qemuExitHandled) {
            return;
        }
        qemuExitHandled = true;
        int code = life.qemu.exitCode();
        if (life.ladder != null) {
            life.ladder.finish();
        }
        if (life.state() == State.STARTING) {
            failStart(
                    Children.describeExit(life.qemu, code)
                            + " during start"
                            + Children.lastWords(life.qemu));
        } else if (ending.escalated || ending.stoppedBeforeRun || ending.startFailed) {
            LOG.fine(() -> Children.describeExit(life.qemu, code));
        } else if (ending.guestPoweredOff && (code == 0 || !life.qemu.exitStatusKnown())) {
            LOG.info(() -> "The guest powered off" + (life.ladder != null ? " as asked" : ""));
        } else {
            life.error(
                    Children.describeExit(life.qemu, code)
                            + " unexpectedly"
                            + Children.lastWords(life.qemu));
        }
        if (life.state() != State.TERMINATING) {
            life.moveTo(State.TERMINATING);
        }
        stopHelpers();
    }

    // ---- stopping ----------------------------------------------------------------------

    /** The graceful stop of a VM whose vCPUs may run: the power button, then the ladder. */
    private void startPowerdown() {
        if (life.ladder != null) {
            return;
        }
        if (life.state() != State.TERMINATING) {
            life.moveTo(State.TERMINATING);
        }
        live.onTerminating();
        if (life.guest != null) {
            life.guest.askPowerOff();
        }
        life.ladder =
                new PowerdownLadder(
                        loop,
                        new QemuRungs(),
                        Duration.ofSeconds(live.current().vm().powerdownTimeout()),
                        timeouts.powerdownRepress(),
                        timeouts.killGrace());
        life.ladder.start();
    }

    private void failStart(String message) {
        life.error(message);
        if (adoption != null) {
            // Not this runner's QEMU to stop: leave it as it was found.
            life.error("QEMU (pid " + life.qemu.pid() + ") was not adopted and is left running");
            ending.refused = true;
            children.forgetAll();
            if (life.state() != State.TERMINATING) {
                life.moveTo(State.TERMINATING);
            }
            qemuExitHandled = true;
            maybeStopped();
            return;
        }
        ending.startFailed = true;
        terminateAll();
    }

    /**
     * Ends every child and its own children: SIGTERM now, SIGKILL after the grace period. Only
     * while the guest has not run (a start that failed or was stopped): no guest data at stake.
     */
    private void terminateAll() {
        if (life.state() != State.TERMINATING) {
            life.moveTo(State.TERMINATING);
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
        if (life.state() != State.TERMINATING
                || !children.allExited()
                || life.qemu != null && !qemuExitHandled) {
            return;
        }
        if (monitor.hasConnection() && qmpCloseWait == null) {
            qmpCloseWait =
                    loop.schedule(
                            LAST_EVENTS,
                            () -> {
                                monitor.close();
                                maybeStopped();
                            });
            return;
        }
        if (monitor.hasConnection()) {
            return;
        }
        if (qmpCloseWait != null) {
            qmpCloseWait.cancel();
        }
        life.moveTo(State.STOPPED);
    }

    /** The ladder's rungs, applied to this VM's QEMU. */
    private final class QemuRungs implements PowerdownLadder.Rungs {
        @Override
        public void pressPowerButton() {
            Qmp qmp = monitor.qmp();
            if (qmp == null || !monitor.isOpen()) {
                LOG.warning("Cannot press the power button: not connected to QEMU's monitor");
                return;
            }
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

        @Override
        public void terminateQemu() {
            ending.escalated = true;
            if (life.qemu.isAlive()) {
                life.qemu.terminate();
            }
        }

        @Override
        public void killQemu() {
            if (life.qemu.isAlive()) {
                life.qemu.kill();
            }
        }
    }
}
