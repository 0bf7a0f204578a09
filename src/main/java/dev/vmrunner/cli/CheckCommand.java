package dev.vmrunner.cli;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.launch.Preparation;
import dev.vmrunner.launch.Renderer;
import java.io.PrintWriter;
import java.util.logging.Level;

/** {@code vmrunner check}: validates the configuration, its template and the executables. */
final class CheckCommand {

    private CheckCommand() {}

    static int run(CommonOptions options, PrintWriter out) {
        LogSetup.configure(Level.WARNING); // -q keeps warnings; it only drops the OK line
        try {
            RunnerConfig config = Main.loadConfig(options);
            Preparation.Prepared prepared =
                    Preparation.dryRun(
                            config, options.templatesDir(), new Renderer(options.templatesDir()));
            Main.warnAbout(prepared);
            Preparation.checkHost(config, prepared.commands());
            if (!options.quiet()) {
                out.println(
                        options.config()
                                + ": OK (VM "
                                + config.vm().name()
                                + ", template "
                                + prepared.template().origin()
                                + ")");
            }
            return 0;
        } catch (ConfigException | LaunchException e) {
            return Main.reportInvalid(e);
        } catch (StackOverflowError | OutOfMemoryError e) {
            // The loader's bounds should prevent these; a hostile file still gets one answer.
            return Main.reportInvalid(
                    new ConfigException(
                            "Failed to check "
                                    + options.config()
                                    + ": "
                                    + e.getClass().getSimpleName()
                                    + " (the configuration is too large or too deeply nested)",
                            e));
        }
    }
}
