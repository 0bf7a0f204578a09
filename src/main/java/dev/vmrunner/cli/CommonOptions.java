package dev.vmrunner.cli;

import dev.vmrunner.launch.TemplateSource;
import java.nio.file.Path;
import java.util.logging.Level;

/** The options every command takes, as parsed. */
record CommonOptions(
        Path config, Path templatesDirOption, boolean verbose, boolean quiet, LogFormat logFormat) {

    static final String DEFAULT_CONFIG = "/etc/opt/vmrunner/config.yaml";

    Path templatesDir() {
        if (templatesDirOption != null) {
            return templatesDirOption;
        }
        String env = System.getenv("VMRUNNER_TEMPLATES");
        return env == null || env.isBlank() ? TemplateSource.DEFAULT_DIR : Path.of(env);
    }

    Level logLevel() {
        return verbose ? Level.FINE : quiet ? Level.WARNING : Level.INFO;
    }
}
