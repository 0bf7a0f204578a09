package dev.vmrunner.cli;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.launch.Preparation;
import dev.vmrunner.launch.Renderer;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Prints the commands the VM would be started with; starts and writes nothing. */
@Command(name = "render", mixinStandardHelpOptions = true, versionProvider = Version.class,
    description = {"Print the commands the VM would be started with, without starting or "
        + "writing anything.",
        "For each process a line '# <name>' (swtpm, cloudInitImg, qemu), then its argv, one "
        + "argument per line."})
final class RenderCommand implements Callable<Integer> {

    @Mixin
    CommonOptions options;

    @Option(names = "--raw", description = "Print the template's YAML output instead.")
    boolean raw;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        LogSetup.configure(options.quiet ? Level.SEVERE : Level.WARNING);
        PrintWriter out = spec.commandLine().getOut();
        try {
            RunnerConfig config = Main.loadConfig(options);
            Renderer renderer = new Renderer(options.templatesDir());
            if (raw) {
                out.print(Preparation.dryRunYaml(config, options.templatesDir(), renderer));
                out.flush();
                return 0;
            }
            out.print(Preparation.dryRun(config, options.templatesDir(), renderer).commands()
                .listing());
            out.flush();
            return 0;
        } catch (ConfigException | LaunchException e) {
            return Main.reportInvalid(e);
        }
    }
}
