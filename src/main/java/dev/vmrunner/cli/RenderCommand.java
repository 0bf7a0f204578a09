package dev.vmrunner.cli;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.launch.Preparation;
import dev.vmrunner.launch.Renderer;
import java.io.PrintWriter;
import java.util.logging.Level;

/**
 * {@code vmrunner render}: the commands the VM would be started with; starts and writes nothing.
 */
final class RenderCommand {

    private RenderCommand() {}

    static int run(CommonOptions options, boolean raw, PrintWriter out) {
        LogSetup.configure(Level.WARNING); // -q: warnings and errors, as on every command
        try {
            RunnerConfig config = Main.loadConfig(options);
            Renderer renderer = new Renderer(options.templatesDir());
            out.print(
                    raw
                            ? Preparation.dryRunYaml(config, options.templatesDir(), renderer)
                            : Preparation.dryRun(config, options.templatesDir(), renderer)
                                    .commands()
                                    .listing());
            out.flush();
            return 0;
        } catch (ConfigException | LaunchException e) {
            return Main.reportInvalid(e);
        } catch (StackOverflowError | OutOfMemoryError e) {
            // The loader's bounds should prevent these; a hostile file still gets one answer.
            return Main.reportInvalid(
                    new ConfigException(
                            "Failed to render "
                                    + options.config()
                                    + ": "
                                    + e.getClass().getSimpleName()
                                    + " (the configuration is too large or too deeply nested)",
                            e));
        }
    }
}
