package dev.vmrunner.cli;

import dev.vmrunner.launch.TemplateSource;
import java.nio.file.Path;
import java.util.logging.Level;
import picocli.CommandLine.Option;

/** Options every command takes. */
final class CommonOptions {

    static final Path DEFAULT_CONFIG = Path.of("/etc/opt/vmrunner/config.yaml");

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
        description = "Configuration file (default: ${DEFAULT-VALUE}).",
        defaultValue = "/etc/opt/vmrunner/config.yaml")
    Path config;

    @Option(names = "--templates-dir", paramLabel = "DIR",
        description = "Where the configuration's template is looked up (default: "
            + "$VMRUNNER_TEMPLATES, else /opt/vmrunner/templates; the standard template is "
            + "built in).")
    Path templatesDir;

    @Option(names = {"-v", "--verbose"}, description = "Log debug details, QMP traffic included.")
    boolean verbose;

    @Option(names = {"-q", "--quiet"}, description = "Log warnings and errors only.")
    boolean quiet;

    Path templatesDir() {
        if (templatesDir != null) {
            return templatesDir;
        }
        String env = System.getenv("VMRUNNER_TEMPLATES");
        return env == null || env.isBlank() ? TemplateSource.DEFAULT_DIR : Path.of(env);
    }

    Level logLevel() {
        return verbose ? Level.FINE : quiet ? Level.WARNING : Level.INFO;
    }
}
