package dev.vmrunner.cli;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.launch.Preparation;
import dev.vmrunner.launch.Renderer;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Validates the configuration and the template it leads to; starts and writes nothing. */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Version.class,
    description = "Validate the configuration, its template and the executables it needs. "
        + "Exit 0 when all is well, 2 with the problems otherwise.")
final class CheckCommand implements Callable<Integer> {

    @Mixin
    CommonOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        LogSetup.configure(options.quiet ? Level.SEVERE : Level.WARNING);
        try {
            RunnerConfig config = Main.loadConfig(options);
            Preparation.Prepared prepared = Preparation.dryRun(config, options.templatesDir(),
                new Renderer(options.templatesDir()));
            if (!options.quiet) {
                spec.commandLine().getOut().println(options.config + ": OK (VM "
                    + config.vm().name() + ", template " + prepared.template().origin() + ")");
            }
            return 0;
        } catch (ConfigException | LaunchException e) {
            return Main.reportInvalid(e);
        }
    }
}
