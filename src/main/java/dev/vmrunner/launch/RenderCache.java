package dev.vmrunner.launch;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import dev.vmrunner.files.AtomicFiles;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TimeZone;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The template's output from the last start, kept in the data directory, so that a start whose
 * inputs are all unchanged skips FreeMarker (about half of the work before QEMU starts).
 *
 * <p>Safe because a hit needs every input to be equal, compared as full text, not as a hash: the
 * build (every class path jar by path, size and modification time, and the Java version), the
 * template's name and text, the data model (as JSON: the configuration's values, uuid, firmware
 * paths, directories), and every template FreeMarker looked up while rendering, by name, with its
 * current text or its absence, resolved again through the same loaders. Templates that read the
 * clock ({@code .now}) or instantiate classes ({@code ?new}) are never cached. The output is still
 * parsed and the executables chosen on every start, so an executable installed or removed since is
 * seen.
 */
public final class RenderCache {

    static final String FILE = "rendered-template.json";

    private static final Logger LOG = Logger.getLogger("vmrunner");
    private static final Gson GSON = new GsonBuilder().serializeNulls().create();

    private final Path file;
    private final String build;

    /**
     * @param build the identity of the code that renders; null disables the cache
     */
    RenderCache(Path file, String build) {
        this.file = file;
        this.build = build;
    }

    /** The cache of the VM with this data directory; disabled when not run from jars. */
    public static RenderCache in(Path dataDir) {
        return new RenderCache(dataDir.resolve(FILE), buildIdentity());
    }

    /** What the output depends on, besides the templates looked up while rendering. */
    record Inputs(String build, String templateName, String templateText, String model) {}

    /** One stored rendering. */
    record Entry(Inputs inputs, Map<String, String> lookups, String output) {}

    /** Inputs of a rendering, or null when this one cannot be cached. */
    Inputs inputs(TemplateSource source, Map<String, Object> model) {
        if (build == null || !cacheable(source.text())) {
            return null;
        }
        try {
            return new Inputs(build, source.name(), source.text(), GSON.toJson(model));
        } catch (RuntimeException e) { // a model value Gson cannot write: render every time
            return null;
        }
    }

    /**
     * The stored output for these inputs, or null.
     *
     * @param lookup a template's current text by name, null when there is none
     */
    String find(Inputs inputs, Function<String, String> lookup) {
        if (inputs == null || !Files.isRegularFile(file)) {
            return null;
        }
        Entry entry;
        try {
            entry = GSON.fromJson(Files.readString(file), Entry.class);
        } catch (IOException | JsonParseException e) {
            return null;
        }
        if (entry == null
                || entry.output() == null
                || entry.lookups() == null
                || !inputs.equals(entry.inputs())) {
            return null;
        }
        try {
            for (Map.Entry<String, String> looked : entry.lookups().entrySet()) {
                if (!Objects.equals(looked.getValue(), lookup.apply(looked.getKey()))) {
                    return null;
                }
            }
        } catch (UncheckedIOException e) {
            return null;
        }
        return entry.output();
    }

    /**
     * Stores an output, unless a template it looked up is not cacheable. A failure to write only
     * costs the next start a rendering.
     */
    void store(Inputs inputs, Map<String, String> lookups, String output) {
        if (inputs == null) {
            return;
        }
        for (String text : lookups.values()) {
            if (text != null && !cacheable(text)) {
                forget();
                return;
            }
        }
        try {
            AtomicFiles.write(
                    file,
                    GSON.toJson(new Entry(inputs, new LinkedHashMap<>(lookups), output))
                            .getBytes(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            LOG.fine(() -> "Failed to write " + file + ": " + e.getMessage());
        }
    }

    private void forget() {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.fine(() -> "Failed to remove " + file + ": " + e.getMessage());
        }
    }

    private static boolean cacheable(String templateText) {
        return !templateText.contains(".now") && !templateText.contains("?new");
    }

    /**
     * Every class path entry by path, size and modification time, the Java version, the default
     * time zone and locale; null when an entry is a directory (a development build, whose classes
     * can change unseen).
     */
    static String buildIdentity() {
        // Dates in a model (a YAML timestamp in cloud-init data) render in the default zone.
        StringBuilder id =
                new StringBuilder("java ")
                        .append(Runtime.version())
                        .append(' ')
                        .append(TimeZone.getDefault().getID())
                        .append(' ')
                        .append(Locale.getDefault());
        for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            Path path = Path.of(entry);
            try {
                if (!Files.isRegularFile(path)) {
                    return null;
                }
                id.append('\n')
                        .append(path.toAbsolutePath())
                        .append(' ')
                        .append(Files.size(path))
                        .append(' ')
                        .append(Files.getLastModifiedTime(path).toMillis());
            } catch (IOException e) {
                return null;
            }
        }
        return id.toString();
    }
}
