package dev.vmrunner.launch;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.files.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * Finds the template a VM uses. A VM keeps its "type": the template is copied into the data
 * directory on first start and later starts use that copy, unless {@code updateTemplate} is set.
 */
public record TemplateSource(String name, String text, String origin) {
    private static final Logger LOG = Logger.getLogger(TemplateSource.class.getName());

    /** The template shipped with vmrunner, used when the configuration names none. */
    public static final String STANDARD = "Standard-VM-latest.ftl.yaml";

    /** The VM's own copy in its data directory. */
    public static final String SAVED = "VM.ftl.yaml";

    /** Where templates are looked up, as upstream; {@code --templates-dir} changes it. */
    public static final Path DEFAULT_DIR = Path.of("/opt/vmrunner/templates");

    /**
     * The template to render for this VM: its saved copy when there is one and {@code
     * updateTemplate} is not set, else the configured one.
     */
    public static TemplateSource forVm(RunnerConfig config, Path templatesDir)
            throws LaunchException {
        Path saved = config.dataDir().resolve(SAVED);
        if (!config.updateTemplate() && Files.isRegularFile(saved)) {
            TemplateSource copy = read(saved);
            warnIfDifferent(copy, config, templatesDir);
            return copy;
        }
        return configured(config, templatesDir);
    }

    /** The saved copy wins over an edited or upgraded template: say so, and how to change it. */
    private static void warnIfDifferent(
            TemplateSource copy, RunnerConfig config, Path templatesDir) {
        TemplateSource current;
        try {
            current = configured(config, templatesDir);
        } catch (LaunchException e) {
            return; // the copy is all there is
        }
        if (!current.text().equals(copy.text())) {
            LOG.warning(
                    () ->
                            "Using the VM's saved template "
                                    + copy.origin()
                                    + ", which differs from the configured "
                                    + current.origin()
                                    + " (a VM keeps the template of its first start); to use the"
                                    + " configured one, set \"updateTemplate\": true in the"
                                    + " configuration's /Runner section for one start");
        }
    }

    /** The template the configuration names, ignoring any saved copy. */
    public static TemplateSource configured(RunnerConfig config, Path templatesDir)
            throws LaunchException {
        String name = config.template() == null ? STANDARD : config.template();
        Path path = templatesDir.resolve(name);
        if (Files.isRegularFile(path)) {
            return read(path);
        }
        if (STANDARD.equals(name)) {
            try (InputStream in =
                    TemplateSource.class.getResourceAsStream("/templates/" + STANDARD)) {
                if (in != null) {
                    return new TemplateSource(
                            STANDARD,
                            new String(in.readAllBytes(), StandardCharsets.UTF_8),
                            "built-in " + STANDARD);
                }
            } catch (IOException e) {
                throw new LaunchException(
                        "Failed to read the built-in template: " + e.getMessage(), e);
            }
        }
        throw new LaunchException(
                "Failed to find template "
                        + name
                        + ": "
                        + path
                        + " does not exist (template is resolved against the templates directory "
                        + templatesDir
                        + "; change it with --templates-dir or VMRUNNER_TEMPLATES)");
    }

    /** Saves this template as the VM's own copy, unless it already is that copy. */
    public void saveFor(RunnerConfig config) throws IOException {
        Path saved = config.dataDir().resolve(SAVED);
        if (!origin.equals(saved.toString())) {
            AtomicFiles.write(saved, text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static TemplateSource read(Path path) throws LaunchException {
        try {
            return new TemplateSource(
                    path.getFileName().toString(), Files.readString(path), path.toString());
        } catch (IOException e) {
            throw new LaunchException("Failed to read template " + path + ": " + e.getMessage(), e);
        }
    }
}
