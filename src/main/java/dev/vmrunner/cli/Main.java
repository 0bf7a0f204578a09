package dev.vmrunner.cli;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.ConfigWatcher;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.launch.OsProcess;
import dev.vmrunner.launch.Preparation;
import dev.vmrunner.launch.Renderer;
import dev.vmrunner.supervisor.ExitCode;
import dev.vmrunner.supervisor.Supervisor;
import dev.vmrunner.supervisor.Timeouts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The {@code vmrunner} command: runs a VM, or renders or checks its configuration. */
@Command(name = "vmrunner", mixinStandardHelpOptions = true, versionProvider = Version.class,
    description = "Starts, supervises and reconfigures one QEMU virtual machine.",
    subcommands = {RenderCommand.class, CheckCommand.class},
    footerHeading = "%nExit codes:%n",
    footer = {
        "  0  the guest powered off cleanly (by itself or on SIGTERM/SIGINT),",
        "     or the VM was stopped before it ran; render/check: all is well",
        "  2  bad command line, configuration or template; nothing was started",
        "  3  a process failed to start or died while the VM was starting",
        "  4  the guest did not power off within vm.powerdownTimeout; QEMU was terminated",
        "  5  QEMU crashed, was killed or exited with an error while the VM ran",
        "  1  internal error of the runner",
        "",
        "SIGTERM/SIGINT press the guest's power button and wait up to vm.powerdownTimeout",
        "(from the first signal) before QEMU is terminated. Further signals press the",
        "button again; they never shorten the wait."})
public final class Main implements Callable<Integer> {

    private static final Logger LOG = Logger.getLogger("vmrunner");
    /** Writes closer together than this are read as one change. */
    private static final Duration SETTLE = Duration.ofMillis(20);

    @Mixin
    CommonOptions options;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        // picocli's own codes match ours: 2 for a bad command line, 1 for an exception.
        return new CommandLine(new Main());
    }

    @Override
    public Integer call() {
        LogSetup.configure(options.logLevel());
        RunnerConfig config;
        Preparation.Prepared prepared;
        byte[] content;
        try {
            content = ConfigLoader.readFile(options.config);
            config = parseConfig(options, content);
            prepared = Preparation.forRun(config, options.templatesDir(),
                new Renderer(options.templatesDir()));
        } catch (ConfigException | LaunchException e) {
            return reportInvalid(e);
        }
        LOG.info(() -> "vmrunner " + Version.text() + " starting VM " + config.vm().name()
            + " (template " + prepared.template().origin() + ")");
        Supervisor supervisor = new Supervisor(config, prepared.commands(),
            OsProcess.starter(config.runtimeDir()), Timeouts.DEFAULT);
        Signals.route(supervisor::signal);
        ConfigWatcher watcher = watch(options.config, content, supervisor);
        try {
            return supervisor.run().code();
        } finally {
            if (watcher != null) {
                watcher.close();
            }
        }
    }

    /** Changes of the file reach the VM; without a watch the VM still runs, unchanged. */
    private static ConfigWatcher watch(Path file, byte[] content, Supervisor supervisor) {
        try {
            return ConfigWatcher.start(file, content, supervisor::configFileChanged, SETTLE);
        } catch (IOException e) {
            LOG.warning(() -> "Failed to watch " + file + " for changes: " + e.getMessage()
                + "; changes will take effect at the next start");
            return null;
        }
    }

    static RunnerConfig loadConfig(CommonOptions options) throws ConfigException {
        return parseConfig(options, ConfigLoader.readFile(options.config));
    }

    private static RunnerConfig parseConfig(CommonOptions options, byte[] content)
            throws ConfigException {
        ConfigLoader.Loaded loaded = ConfigLoader.parseWithWarnings(content, options.config,
            System.getenv());
        for (String warning : loaded.warnings()) {
            LOG.warning(warning);
        }
        return loaded.config();
    }

    static int reportInvalid(Exception e) {
        LOG.severe(e.getMessage());
        return ExitCode.CONFIG.code();
    }
}
