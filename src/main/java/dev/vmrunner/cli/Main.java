package dev.vmrunner.cli;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.ConfigWatcher;
import dev.vmrunner.config.HttpAddress;
import dev.vmrunner.config.MigrationUri;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RunnerLocation;
import dev.vmrunner.kube.PodReport;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.launch.OsProcess;
import dev.vmrunner.launch.Preparation;
import dev.vmrunner.launch.Renderer;
import dev.vmrunner.prestart.PrestartCache;
import dev.vmrunner.prestart.Prestarted;
import dev.vmrunner.status.ExitCode;
import dev.vmrunner.supervisor.Supervisor;
import dev.vmrunner.supervisor.Timeouts;
import dev.vmrunner.supervisor.claim.Adoption;
import dev.vmrunner.supervisor.claim.VmClaim;
import dev.vmrunner.supervisor.migrate.IncomingCommands;
import dev.vmrunner.supervisor.power.PowerCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.ToIntFunction;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.commons.cli.ParseException;

/** The {@code vmrunner} command: runs a VM, or renders or checks its configuration. */
public final class Main {

    /**
     * The runner's logger, in a holder: the JDK's logging takes some 20 ms to set up, which {@code
     * run} leaves to its early thread (see {@link #runVm}).
     */
    private static final class Log {
        static final Logger LOG = Logger.getLogger("vmrunner");
    }

    /**
     * In-place writes closer together than this are read as one change; a replaced file is read at
     * once.
     */
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        Cli.Parsed parsed;
        try {
            parsed = Cli.parse(args);
        } catch (ParseException e) {
            System.err.println("vmrunner: " + e.getMessage());
            System.err.println("Try 'vmrunner help' for the commands and their options.");
            return ExitCode.CONFIG.code();
        }
        LogSetup.useFormat(parsed.options().logFormat());
        if (parsed.help()) {
            Cli.printHelp(parsed.command(), out);
            return 0;
        }
        if (parsed.version()) {
            out.println("vmrunner " + Version.text());
            out.println("Java " + Runtime.version());
            return 0;
        }
        return switch (parsed.command()) {
            case RUN ->
                    runVm(parsed.options(), parsed.http(), parsed.incoming(), EarlyStart.begin());
            case RENDER -> RenderCommand.run(parsed.options(), parsed.raw(), out);
            case STATUS ->
                    StatusCommand.run(parsed.options(), parsed.output(), parsed.ready(), out);
            case CONSOLE -> ConsoleCommand.run(parsed.options());
            case CHECK -> CheckCommand.run(parsed.options(), out);
            case MIGRATE -> MigrateCommand.run(parsed.options(), parsed.to(), parsed.cancel(), out);
            case START -> PowerCommands.run(parsed.options(), new PowerCommand.Start(), out);
            case STOP ->
                    PowerCommands.run(parsed.options(), new PowerCommand.Stop(parsed.force()), out);
            case RESET -> PowerCommands.run(parsed.options(), new PowerCommand.Reset(), out);
        };
    }

    private static int runVm(
            CommonOptions options, String httpOption, String incoming, EarlyStart early) {
        // The configuration is read before the logging is set up, which meanwhile the early thread
        // does (the JDK's logging takes some 20 ms to start, most of it spent looking for logging
        // providers on the class path).
        byte[] content;
        ConfigLoader.Loaded loaded;
        Map<String, String> env = ConfigLoader.hostEnvironment();
        try {
            content = ConfigLoader.readFile(options.config());
            loaded = ConfigLoader.parseWithWarnings(content, options.config(), env);
        } catch (ConfigException e) {
            LogSetup.configure(options.logLevel());
            return reportInvalid(e);
        }
        LogSetup.configure(options.logLevel());
        RunnerConfig config;
        try {
            config =
                    incoming == null
                            ? accepted(loaded)
                            : accepted(loaded).incoming(MigrationUri.parse(incoming));
        } catch (IllegalArgumentException e) {
            Log.LOG.severe("Invalid --incoming: " + e.getMessage());
            return ExitCode.CONFIG.code();
        }

        // Signals are caught from here on (the early thread installed the handlers): one that
        // arrives before the supervisor runs is handed to it once it does (a stop then ends the
        // start at once). Before this, nothing exists that a signal's default could harm.
        Signals.Relay signals = early.signals();
        HttpAddress http;
        try {
            http = httpOption != null ? HttpAddress.parse(httpOption) : config.http();
        } catch (IllegalArgumentException e) {
            Log.LOG.severe("Invalid --http: " + e.getMessage());
            return ExitCode.CONFIG.code();
        }
        Timeouts timeouts;
        try {
            timeouts = Timeouts.fromEnvironment(System.getenv());
        } catch (IllegalArgumentException e) {
            Log.LOG.severe(e.getMessage());
            return ExitCode.CONFIG.code();
        }
        Optional<Prestarted> prestarted = Prestarted.fromEnvironment(env);
        prestarted.ifPresent(Prestarted::awaitExec);
        VmClaim claim;
        try {
            claim =
                    config.migration().incoming() != null
                            ? VmClaim.acquireIncoming(config)
                            : VmClaim.acquire(config);
        } catch (VmClaim.ClaimException e) {
            Log.LOG.severe(e.getMessage());
            return (e.alreadyRunning() ? ExitCode.ALREADY_RUNNING : ExitCode.CONFIG).code();
        }
        leaveLink(config, env);
        Supervisor supervisor;
        Preparation.Prepared prepared = null;
        boolean target = config.migration().incoming() != null;
        if (target) {
            // A target's QEMU waits for the guest (-incoming): never one the launcher started
            prestarted.ifPresent(Prestarted::end);
            prestarted = Optional.empty();
        }
        prestarted = Prestarted.pendingIn(claim, config, prestarted);
        if (prestarted.isPresent()) {
            // The overlapped start: QEMU was started by the launcher while this JVM booted.
            try {
                prepared = prepare(config, options);
            } catch (LaunchException e) {
                prestarted.get().end();
                claim.release();
                return reportInvalid(e);
            }
            Optional<Adoption> taken =
                    prestarted
                            .get()
                            .take(config, content, prepared.commands(), timeouts.qmpConnect());
            if (taken.isPresent()) {
                supervisor = Supervisor.adopting(config, content, taken.get(), timeouts, claim);
                return supervise(supervisor, options, http, config, content, env, signals, null);
            }
            claim.release(); // its QEMU is gone: claimed afresh, the runtime directory cleared
            try {
                claim = VmClaim.acquire(config);
            } catch (VmClaim.ClaimException e) {
                Log.LOG.severe(e.getMessage());
                return (e.alreadyRunning() ? ExitCode.ALREADY_RUNNING : ExitCode.CONFIG).code();
            }
        }
        if (claim.adoptable().isPresent()) {
            try {
                Adoption adoption = Adoption.prepare(claim, config, content, env);
                supervisor = Supervisor.adopting(config, content, adoption, timeouts, claim);
            } catch (VmClaim.ClaimException e) {
                claim.release();
                Log.LOG.severe(e.getMessage());
                return ExitCode.ALREADY_RUNNING.code();
            }
        } else {
            try {
                if (prepared == null) {
                    prepared = prepare(config, options);
                }
            } catch (LaunchException e) {
                claim.release();
                return reportInvalid(e);
            }
            warnAbout(prepared);
            Commands commands;
            try {
                commands = IncomingCommands.prepare(config, prepared.commands());
            } catch (LaunchException e) {
                claim.release();
                return reportInvalid(e);
            }
            Preparation.Prepared started = prepared;
            Log.LOG.info(
                    () ->
                            "vmrunner "
                                    + Version.text()
                                    + " starting VM "
                                    + config.vm().name()
                                    + " (template "
                                    + started.template().origin()
                                    + ")");
            supervisor =
                    new Supervisor(
                            config,
                            content,
                            commands,
                            OsProcess.starter(config.runtimeDir()),
                            timeouts,
                            claim);
        }
        Runnable cache =
                prepared == null || target
                        ? null // an adoption, or a target: not what an ordinary start runs
                        : PrestartCache.writerOnceRunning(
                                env,
                                config,
                                content,
                                prepared.commands(),
                                prepared.template(),
                                options.templatesDir());
        return supervise(supervisor, options, http, config, content, env, signals, cache);
    }

    private static Preparation.Prepared prepare(RunnerConfig config, CommonOptions options)
            throws LaunchException {
        return Preparation.forRun(
                config, options.templatesDir(), new Renderer(options.templatesDir()));
    }

    private static int supervise(
            Supervisor supervisor,
            CommonOptions options,
            HttpAddress http,
            RunnerConfig config,
            byte[] content,
            Map<String, String> env,
            Signals.Relay signals,
            Runnable onceRunning) {
        supervisor.startsAfreshWith(
                now -> {
                    Preparation.Prepared again =
                            Preparation.forRun(
                                    now,
                                    options.templatesDir(),
                                    new Renderer(options.templatesDir()));
                    warnAbout(again);
                    return again.commands();
                },
                OsProcess.starter(config.runtimeDir()));
        Runnable rehearsal = Warmup.configEdit(config, content, env);
        supervisor.warmUpOnceRunning(
                onceRunning == null
                        ? rehearsal
                        : () -> {
                            rehearsal.run();
                            onceRunning.run();
                        });
        signals.deliverTo(supervisor::signal);
        SdNotify systemd = SdNotify.fromEnvironment(System.getenv());
        if (systemd != null) {
            supervisor.watchStatus(systemd);
        }
        // In a pod: Events and the VM's state on the pod (sent only once QEMU runs); else null.
        PodReport pod = PodReport.fromEnvironment(System.getenv());
        if (pod != null) {
            supervisor.watchStatus(pod);
            supervisor.tellFacts(pod);
        }
        // The watch is set up beside the start, not before it: the watcher reads the file once it
        // watches, so a change made in between still reaches the VM.
        CompletableFuture<ConfigWatcher> watcher =
                ConfigWatch.beside(options.config(), content, supervisor);
        supervisor.serveHttp(http);
        try {
            return supervisor.run().code();
        } finally {
            ConfigWatcher watching = watcher.join();
            if (watching != null) {
                watching.close();
            }
            if (systemd != null) {
                systemd.flush(2000);
            }
            if (pod != null) {
                pod.close();
            }
        }
    }

    /** So that {@code status} finds this runner even after an edit that does not parse. */
    private static void leaveLink(RunnerConfig config, Map<String, String> env) {
        try {
            RunnerLocation.leaveLink(config, env);
        } catch (IOException e) {
            Log.LOG.fine(() -> "Failed to link the configuration to the runtime directory: " + e);
        }
    }

    /** Problems of a template that do not stop the VM from starting. */
    static void warnAbout(Preparation.Prepared prepared) {
        if (!prepared.commands().qemuStartsPaused()) {
            Log.LOG.warning(
                    () ->
                            "Template "
                                    + prepared.template().origin()
                                    + " does not start QEMU paused (-S): the guest runs before the"
                                    + " runner has configured it");
        }
    }

    static RunnerConfig loadConfig(CommonOptions options) throws ConfigException {
        return parseConfig(options, ConfigLoader.readFile(options.config()));
    }

    private static RunnerConfig parseConfig(CommonOptions options, byte[] content)
            throws ConfigException {
        return accepted(
                ConfigLoader.parseWithWarnings(
                        content, options.config(), ConfigLoader.hostEnvironment()));
    }

    /** A parsed configuration: the VM it names goes into the log records, its warnings too. */
    private static RunnerConfig accepted(ConfigLoader.Loaded loaded) {
        LogSetup.vm(loaded.config().vm().name());
        for (String warning : loaded.warnings()) {
            Log.LOG.warning(warning);
        }
        return loaded.config();
    }

    /**
     * A runner to ask, and what is wrong with its configuration file on disk.
     *
     * @param rejected why the file was rejected, null when it is valid
     */
    record Target(RunnerLocation location, ConfigException rejected) {}

    /**
     * For the commands that ask a running runner ({@code status}, {@code console}): logging that
     * shows only warnings, then where the runner answers. Asking does not depend on the file being
     * valid (the runner keeps its last good configuration): a rejected file is located leniently
     * ({@link RunnerLocation#lenient}) and the command told why it was rejected; only a file that
     * tells nothing at all is reported (exit 2).
     */
    static int withConfig(CommonOptions options, ToIntFunction<Target> command) {
        LogSetup.configure(options.quiet() ? Level.SEVERE : Level.WARNING);
        Map<String, String> env = ConfigLoader.hostEnvironment();
        byte[] content = null;
        try {
            content = ConfigLoader.readFile(options.config());
            RunnerConfig config =
                    accepted(ConfigLoader.parseWithWarnings(content, options.config(), env));
            return command.applyAsInt(new Target(RunnerLocation.of(config), null));
        } catch (ConfigException e) {
            RunnerLocation location =
                    RunnerLocation.lenient(
                            content == null ? new byte[0] : content, options.config(), env);
            if (location == null) {
                return reportInvalid(e);
            }
            return command.applyAsInt(new Target(location, e));
        }
    }

    static int reportInvalid(Exception e) {
        if (e instanceof ConfigException invalid) {
            invalid.warnings().forEach(Log.LOG::warning);
        }
        Log.LOG.severe(e.getMessage());
        return ExitCode.CONFIG.code();
    }
}
