package dev.vmrunner.launch;

import dev.vmrunner.files.AtomicFiles;
import dev.vmrunner.launch.RecordingTemplateLoader.Lookup;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;
import java.util.logging.Logger;

/**
 * The template's output from the last start, kept in the data directory, so that a start whose
 * inputs are all unchanged skips FreeMarker (most of the work before QEMU starts).
 *
 * <p>Safe because a hit needs every input to be equal, compared as full text, not as a hash: the
 * build (every class path jar by path, size and modification time, and the Java version), the
 * template's name and text, the data model (in a canonical encoding of its maps, lists and values),
 * and every template FreeMarker looked up while rendering: one found in the templates directory
 * must have the same text there now, any other name must still be missing from the directory (the
 * built-in templates are part of the build). Templates that read the clock ({@code .now}) or
 * instantiate classes ({@code ?new}) are never cached, nor are models holding values of other
 * types. The output is still parsed and the executables chosen on every start, so an executable
 * installed or removed since is seen.
 *
 * <p>The file is a line naming the format, then length-prefixed fields; one that cannot be read
 * (damaged, another format, too large) is a miss and is written over.
 */
public final class RenderCache {

    static final String FILE = "rendered-template.cache";

    /** The cache file of versions before 0.2, removed when a new one is written. */
    private static final String OLD_FILE = "rendered-template.json";

    private static final String MAGIC = "vmrunner render cache 1\n";
    private static final long MAX_BYTES = 16L << 20;

    private static final Logger LOG = Logger.getLogger("vmrunner");

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
    record Inputs(String build, String templateName, String templateText, String model) {
        boolean same(Inputs other) {
            return build.equals(other.build)
                    && templateName.equals(other.templateName)
                    && templateText.equals(other.templateText)
                    && model.equals(other.model);
        }
    }

    /** A check of one recorded lookup against the templates now. */
    @FunctionalInterface
    interface LookupCheck {
        boolean unchanged(String name, Lookup recorded) throws IOException;
    }

    /** Inputs of a rendering, or null when this one cannot be cached. */
    Inputs inputs(TemplateSource source, Map<String, Object> model) {
        if (build == null || !cacheable(source.text())) {
            return null;
        }
        StringBuilder encoded = new StringBuilder(1024);
        if (!encode(model, encoded)) {
            return null;
        }
        return new Inputs(build, source.name(), source.text(), encoded.toString());
    }

    /** The stored output for these inputs, or null. */
    String find(Inputs inputs, LookupCheck lookups) {
        if (inputs == null) {
            return null;
        }
        String text;
        try {
            if (!Files.isRegularFile(file) || Files.size(file) > MAX_BYTES) {
                return null;
            }
            text = Files.readString(file);
        } catch (IOException e) { // unreadable, or not UTF-8
            return null;
        }
        try {
            Fields fields = new Fields(text);
            Inputs stored = new Inputs(fields.next(), fields.next(), fields.next(), fields.next());
            String output = fields.next();
            if (!inputs.same(stored)) {
                return null;
            }
            int count = Integer.parseInt(fields.next());
            for (int i = 0; i < count; i++) {
                String name = fields.next();
                boolean inDirectory = fields.next().equals("d");
                String recorded = fields.next();
                Lookup lookup = new Lookup(inDirectory, inDirectory ? recorded : null);
                if (!lookups.unchanged(name, lookup)) {
                    return null;
                }
            }
            return output;
        } catch (IllegalArgumentException | IOException e) {
            return null;
        }
    }

    /**
     * Stores an output, unless a template it looked up is not cacheable. A failure to write only
     * costs the next start a rendering.
     */
    void store(Inputs inputs, Map<String, Lookup> lookups, String output) {
        if (inputs == null) {
            return;
        }
        StringBuilder out = new StringBuilder(MAGIC);
        for (String field :
                List.of(
                        inputs.build(),
                        inputs.templateName(),
                        inputs.templateText(),
                        inputs.model(),
                        output,
                        Integer.toString(lookups.size()))) {
            field(out, field);
        }
        for (Map.Entry<String, Lookup> looked : lookups.entrySet()) {
            Lookup lookup = looked.getValue();
            if (lookup.text() != null && !cacheable(lookup.text())) {
                forget(file);
                return;
            }
            field(out, looked.getKey());
            field(out, lookup.inDirectory() ? "d" : "-");
            field(out, lookup.inDirectory() && lookup.text() != null ? lookup.text() : "");
        }
        try {
            AtomicFiles.write(file, out.toString().getBytes(StandardCharsets.UTF_8));
            forget(file.resolveSibling(OLD_FILE));
        } catch (IOException | RuntimeException e) {
            LOG.fine(() -> "Failed to write " + file + ": " + e.getMessage());
        }
    }

    private static void forget(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.fine(() -> "Failed to remove " + path + ": " + e.getMessage());
        }
    }

    private static boolean cacheable(String templateText) {
        return !templateText.contains(".now") && !templateText.contains("?new");
    }

    /** A field: its length in chars, a colon, the text, a newline. */
    private static void field(StringBuilder out, String text) {
        out.append(text.length()).append(':').append(text).append('\n');
    }

    /** The fields of a cache file, after its format line. */
    private static final class Fields {
        private final String text;
        private int at;

        Fields(String text) {
            if (!text.startsWith(MAGIC)) {
                throw new IllegalArgumentException("not a render cache file");
            }
            this.text = text;
            this.at = MAGIC.length();
        }

        /** The next field; IllegalArgumentException when there is none or it is damaged. */
        String next() {
            int colon = text.indexOf(':', at);
            if (colon < 0 || colon - at > 10) {
                throw new IllegalArgumentException("damaged field");
            }
            int length = Integer.parseInt(text, at, colon, 10); // NumberFormatException is an IAE
            if (length < 0 || length >= text.length() - colon - 1) {
                throw new IllegalArgumentException("damaged field");
            }
            int end = colon + 1 + length;
            if (text.charAt(end) != '\n') {
                throw new IllegalArgumentException("damaged field");
            }
            at = end + 1;
            return text.substring(colon + 1, end);
        }
    }

    /**
     * Appends a canonical, prefix-free encoding of a model value: equal encodings mean equal values
     * of the same types. False for a value of a type it does not know (not cacheable).
     */
    @SuppressWarnings("JavaUtilDate") // SnakeYAML gives YAML timestamps as java.util.Date
    static boolean encode(Object value, StringBuilder out) {
        if (value == null) {
            out.append('n');
        } else if (value instanceof String s) {
            out.append('s');
            field(out, s);
        } else if (value instanceof Boolean b) {
            out.append(b ? 't' : 'f');
        } else if (value instanceof Integer || value instanceof Long) {
            out.append(value instanceof Integer ? 'i' : 'l');
            field(out, value.toString());
        } else if (value instanceof Number || value instanceof Date) {
            // Other numbers and YAML timestamps in cloud-init data: by type and exact value.
            out.append('#');
            field(out, value.getClass().getName());
            field(out, value instanceof Date d ? Long.toString(d.getTime()) : value.toString());
        } else if (value instanceof StreamingVideoModel v) {
            out.append('v');
            field(out, v.getAsString());
        } else if (value instanceof Map<?, ?> map) {
            out.append('{').append(map.size()).append(':');
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!encode(entry.getKey(), out) || !encode(entry.getValue(), out)) {
                    return false;
                }
            }
        } else if (value instanceof List<?> list) {
            out.append('[').append(list.size()).append(':');
            for (Object item : list) {
                if (!encode(item, out)) {
                    return false;
                }
            }
        } else {
            return false;
        }
        return true;
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
