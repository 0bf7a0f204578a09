package dev.vmrunner.supervisor;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.HttpAddress;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.kube.VmFacts;
import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.LaunchException;
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
import dev.vmrunner.supervisor.claim.Adoption;
import dev.vmrunner.supervisor.claim.VmClaim;
import dev.vmrunner.supervisor.live.LiveConfig;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts and supervises the processes of one VM. All state lives on one loop thread; signals,
 * process exits and QMP traffic arrive as {@link Event}s. The run begins with an {@link Opening} (a
 * start or an adoption), ends by the one route of {@link Teardown}, and {@link #run} returns how it
 * ended, decided once from the {@link Ending}.
 */
public final class Supervisor {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private final RunnerConfig config;
    private final VmClaim claim;
    private final Lifecycle life = new Lifecycle();
    private final QmpStats qmpStats = new QmpStats();
    private final Parts parts;
    private final StatusPublisher publisher;
    private final StatusServers servers;
    private final Teardown teardown;
    private final Boot boot;
    private final Migrations migrations;
    private final PowerControl power;
    private final Runs runs;

    /** Renders the commands of a fresh start in the same runner from the configuration then. */
    public interface Preparer {
        Commands prepare(RunnerConfig config) throws LaunchException;
    }

    /** The heap ran out for good: the VM is stopped as on SIGTERM, and that is no success. */
    private boolean heapExhausted;

    /**
     * A supervisor that starts the VM.
     *
     * @param content the configuration file's content that {@code config} came from
     * @param claim this runner's claim on the VM ({@link VmClaim#acquire}); released at the end
     */
    public Supervisor(
            RunnerConfig config,
            byte[] content,
            Commands commands,
            ChildProcess.Starter starter,
            Timeouts timeouts,
            VmClaim claim) {
        this(config, content, commands, starter, timeouts, claim, Clock.SYSTEM);
    }

    /**
     * How a stopped VM is started again in this runner ({@code vmrunner start}, {@code vm.state:
     * Running}): {@code preparer} renders the commands from the configuration of then, {@code
     * starter} starts them. Without it a supervisor that started the VM starts the same commands
     * again, and one that adopted QEMU refuses. Before {@link #run}.
     */
    public void startsAfreshWith(Preparer preparer, ChildProcess.Starter starter) {
        runs.prepareWith(preparer);
        parts.children().startWith(starter);
    }

    /** A supervisor that starts the VM, on {@code clock}. */
    Supervisor(
            RunnerConfig config,
            byte[] content,
            Commands commands,
            ChildProcess.Starter starter,
            Timeouts timeouts,
            VmClaim claim,
            Clock clock) {
        this(
                config,
                config,
                content,
                starter,
                timeouts,
                claim,
                clock,
                s -> s.runs.startSequence(config, commands));
        runs.prepareWith(c -> commands);
        migrations.swtpm(commands.swtpm());
    }

    /**
     * A supervisor that adopts the QEMU an earlier runner left running instead of starting one.
     *
     * @param content the configuration file's content now; applied once QEMU is adopted
     * @param claim this runner's claim on the VM; released at the end
     */
    public static Supervisor adopting(
            RunnerConfig config,
            byte[] content,
            Adoption adoption,
            Timeouts timeouts,
            VmClaim claim) {
        return adopting(content, adoption, timeouts, claim, Clock.SYSTEM);
    }

    /** A supervisor that adopts the QEMU an earlier runner left running, on {@code clock}. */
    static Supervisor adopting(
            byte[] content, Adoption adoption, Timeouts timeouts, VmClaim claim, Clock clock) {
        return new Supervisor(
                adoption.applied(),
                adoption.started(),
                content,
                AdoptionSequence.STARTS_NOTHING,
                timeouts,
                claim,
                clock,
                s ->
                        new AdoptionSequence(
                                s.config, adoption, content, s.parts, s.teardown, s.boot));
    }

    /**
     * @param config the configuration applied to QEMU
     * @param started the configuration QEMU was started with
     * @param opening how the run begins, made once the supervisor's parts exist
     */
    private Supervisor(
            RunnerConfig config,
            RunnerConfig started,
            byte[] content,
            ChildProcess.Starter starter,
            Timeouts timeouts,
            VmClaim claim,
            Clock clock,
            Function<Supervisor, Opening> opening) {
        this.config = config;
        this.claim = claim;
        Loop loop = new Loop(clock);
        MonitorLink monitor =
                new MonitorLink(loop, RuntimeFiles.monitor(config), timeouts, qmpStats);
        LiveConfig live =
                new LiveConfig(
                        loop,
                        started,
                        config,
                        ConfigLoader.hostEnvironment(),
                        timeout -> {
                            if (life.ladder != null) {
                                life.ladder.setTimeout(timeout);
                            }
                        });
        this.parts =
                new Parts(
                        loop,
                        life,
                        new Children(loop, starter, timeouts.killGrace()),
                        monitor,
                        new DisplayAccess(loop, config),
                        live);
        this.teardown = new Teardown(parts, timeouts, this::failStart);
        this.runs = new Runs(config, content, parts, teardown, timeouts.helperStart());
        this.power = new PowerControl(config, parts, teardown, runs);
        teardown.onStopped(power::runEnded);
        this.publisher = new StatusPublisher(config, parts, power::desired);
        this.migrations = new Migrations(config, started, parts, teardown, claim, this::failStart);
        this.servers =
                new StatusServers(
                        publisher::status,
                        publisher::loopAnswers,
                        this::request,
                        qmpStats,
                        live.counted()::snapshot);
        publisher.watch(servers::published);
        loop.afterEach(publisher::publish);
        loop.onHeapExhausted(
                () -> {
                    heapExhausted = true;
                    onSignal("TERM");
                });
        this.boot = new Boot(config, parts, teardown, publisher, this::failStart, runs::current);
        runs.bootWith(boot);
        runs.first(opening.apply(this));
        migrations.wire(boot, publisher);
    }

    /** The configuration file has new content. Callable from any thread. */
    public void configFileChanged(byte[] content) {
        parts.loop().post(new Event.ConfigFileChanged(content));
    }

    /**
     * A request line the status socket does not answer itself (a migration's, a power command's):
     * its answer, null for one nobody knows.
     */
    String request(String line) {
        String migration = migrations.request(line);
        return migration != null ? migration : power.command(line);
    }

    /** A signal arrived (TERM, INT, HUP, USR1, ...; see {@link SignalMeaning}). Any thread. */
    public void signal(String name) {
        parts.loop().post(new SignalReceived(name));
    }

    /** The latest status; any thread. */
    public Status status() {
        return publisher.status();
    }

    /**
     * Calls {@code watcher} on the loop thread with every status the loop publishes (after every
     * event), from the first on. It must return quickly and must not block; what it throws is
     * logged and survived.
     */
    public void watchStatus(Consumer<Status> watcher) {
        publisher.watch(watcher);
    }

    /**
     * Tells {@code facts} what the status does not carry (a guest's power-off, every live change's
     * outcome, a lost guest agent), on the loop thread. Before run.
     */
    public void tellFacts(VmFacts facts) {
        life.facts = facts;
        parts.live().tellFacts(facts);
    }

    /** The start code's warm-up of a config edit, run on the loop a second after the VM runs. */
    public void warmUpOnceRunning(Runnable warmUp) {
        boot.warmUpOnceRunning(warmUp);
    }

    /** Serves the HTTP endpoints at {@code address} once QEMU runs; null for none. Before run. */
    public void serveHttp(HttpAddress address) {
        servers.http(address);
    }

    /** Runs the VM until it has stopped. Cleans up whatever happens. */
    public ExitCode run() {
        publisher.publish();
        servers.serveSocket(config.runtimeDir());
        try {
            if (!power.beginsStopped()) {
                runs.current().begin();
            }
            // What the opening started (QEMU's pid: the HTTP endpoints follow it) is seen now,
            // not only after the next event, which may be seconds away.
            publisher.publish();
            runLoop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.severe("Interrupted while supervising the VM");
        } finally {
            parts.display().close();
            boot.close();
            if (life.guest != null) {
                life.guest.close();
            }
            parts.monitor().close();
            servers.close();
            teardown.endLeftovers();
            runs.current().close();
            migrations.close();
            if (claim != null) {
                claim.release();
            }
        }
        ExitCode ended = life.state() == State.STOPPED ? life.ending.exitCode() : ExitCode.INTERNAL;
        ExitCode code = heapExhausted && ended == ExitCode.CLEAN ? ExitCode.INTERNAL : ended;
        LOG.info(() -> "Runner stopped (" + code + ", exit code " + code.code() + ")");
        return code;
    }

    /**
     * The loop guards every handler itself; this guards the loop: whatever escapes it (an Error
     * thrown between handlers) is logged and the loop goes on, because ending it would leave QEMU
     * without its runner.
     */
    @SuppressWarnings("CatchingUnchecked") // see above
    private void runLoop() throws InterruptedException {
        while (!power.finished()) {
            try {
                parts.loop().run(this::handle, power::finished);
            } catch (RuntimeException | Error e) {
                LOG.log(Level.SEVERE, "Internal error in the supervisor's loop: " + e, e);
            }
        }
    }

    private void failStart(String message) {
        migrations.startFailing();
        life.error(message);
        runs.current().failed();
    }

    // ---- events ------------------------------------------------------------------------

    private void handle(Event event) {
        if (event instanceof SignalReceived s) {
            onSignal(s.name());
        } else if (event instanceof ChildExited e) {
            onChildExited(e.child());
        } else if (event instanceof QmpReady r) {
            boot.onQmpReady(r);
        } else if (event instanceof QmpConnectFailed f) {
            boot.onQmpConnectFailed(f.cause());
        } else if (event instanceof QmpEventArrived a) {
            onQmpEvent(a.event());
        } else if (event instanceof QmpClosed c) {
            boot.onQmpClosed(c);
        } else if (event instanceof Event.QemuEnded) {
            teardown.onQemuEnded();
        } else if (event instanceof Event.ConfigFileChanged f) {
            RunnerConfig before = parts.live().current();
            parts.live().onFileChanged(f.content(), life.state() == State.TERMINATING);
            @SuppressWarnings("ReferenceEquality") // a new object: the edit was accepted
            boolean accepted = parts.live().current() != before;
            if (accepted) {
                runs.fileAccepted(f.content());
            }
        } else if (event instanceof Continuation c) {
            c.action().run();
        }
        power.followFile();
    }

    private void onSignal(String name) {
        switch (SignalMeaning.of(name)) {
            case STOP -> {
                LOG.info(() -> "Received SIG" + name);
                if (!migrations.onStop(name)) {
                    power.exitAsked();
                    teardown.stopAsked();
                }
            }
            case RELOAD -> reload(name);
            case REPORT -> LOG.info(() -> "SIG" + name + ": " + publisher.statusLine());
            case IGNORE -> LOG.info(() -> "SIG" + name + " received and ignored");
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
        parts.live().onQmpEvent(event);
        migrations.onQmpEvent(event);
        if (event instanceof VmEvent.Shutdown s) {
            LOG.info(
                    () ->
                            "QEMU reports shutdown ("
                                    + s.reason()
                                    + (s.guest() ? ", by the guest" : "")
                                    + ")");
            teardown.shutdownReported(s);
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
        } else if (event instanceof VmEvent.SpiceClient && parts.monitor().qmp() != null) {
            parts.display().clientsChanged(parts.monitor().qmp());
        } else {
            LOG.fine(() -> "QMP event " + event);
        }
    }

    private void onChildExited(ChildProcess child) {
        parts.children().exited(child);
        int code = child.exitCode();
        Children.OneShot step = parts.children().oneShot(child);
        if (child == life.qemu) {
            teardown.qemuExited(child);
            migrations.qemuExited();
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
            teardown.helperExited(child, code);
        }
    }
}
