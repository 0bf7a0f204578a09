package dev.vmrunner.launch;

import freemarker.cache.TemplateLoader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The templates a rendering sees, in two layers: the templates directory (when there is one), then
 * the built-in templates. Records every lookup FreeMarker makes, so that {@link RenderCache} can
 * tell whether a rendering would see the same templates now: for a name found in the directory its
 * text, for any other name only that the directory did not have it. What the built-in layer gives
 * for a name is fixed by the build, which the cache compares on its own.
 */
final class RecordingTemplateLoader implements TemplateLoader {

    /** Templates are UTF-8, whatever the platform's default encoding. */
    static final String ENCODING = "UTF-8";

    /**
     * What one lookup found.
     *
     * @param inDirectory whether the templates directory had it
     * @param text the text FreeMarker read (null: not read, or not found)
     */
    record Lookup(boolean inDirectory, String text) {}

    private final TemplateLoader directory;
    private final TemplateLoader builtIn;
    private final Map<String, Lookup> lookups = new LinkedHashMap<>();

    /**
     * @param directory the templates directory's loader; null when there is none
     * @param builtIn the built-in templates' loader
     */
    RecordingTemplateLoader(TemplateLoader directory, TemplateLoader builtIn) {
        this.directory = directory;
        this.builtIn = builtIn;
    }

    void clear() {
        lookups.clear();
    }

    /** Every name looked up since {@link #clear()}, with what was found. */
    Map<String, Lookup> lookups() {
        return new LinkedHashMap<>(lookups);
    }

    /**
     * Whether a lookup of {@code name} would find what {@code recorded} says it found: the same
     * text in the directory, or (for a name found elsewhere or nowhere) still nothing there.
     */
    boolean unchanged(String name, Lookup recorded) throws IOException {
        Object now = directory == null ? null : directory.findTemplateSource(name);
        if (now == null) {
            return !recorded.inDirectory();
        }
        try {
            return recorded.inDirectory()
                    && (recorded.text() == null
                            || recorded.text().equals(read(directory, now, ENCODING)));
        } finally {
            directory.closeTemplateSource(now);
        }
    }

    @Override
    public Object findTemplateSource(String name) throws IOException {
        Object source = directory == null ? null : directory.findTemplateSource(name);
        if (source != null) {
            lookups.putIfAbsent(name, new Lookup(true, null));
            return new Found(name, directory, source);
        }
        lookups.putIfAbsent(name, new Lookup(false, null));
        source = builtIn.findTemplateSource(name);
        return source == null ? null : new Found(name, builtIn, source);
    }

    @Override
    public long getLastModified(Object source) {
        Found found = (Found) source;
        return found.loader.getLastModified(found.source);
    }

    @Override
    public Reader getReader(Object source, String encoding) throws IOException {
        Found found = (Found) source;
        String text = read(found.loader, found.source, encoding);
        lookups.put(found.name, new Lookup(found.loader == directory, text));
        return new StringReader(text);
    }

    @Override
    public void closeTemplateSource(Object source) throws IOException {
        Found found = (Found) source;
        found.loader.closeTemplateSource(found.source);
    }

    private static String read(TemplateLoader loader, Object source, String encoding)
            throws IOException {
        StringBuilder text = new StringBuilder();
        try (Reader in = loader.getReader(source, encoding)) {
            char[] buffer = new char[8192];
            for (int n; (n = in.read(buffer)) > 0; ) {
                text.append(buffer, 0, n);
            }
        }
        return text.toString();
    }

    /**
     * A template found in one layer. Equal when the layer's source is (FreeMarker compares sources
     * to see whether a template changed).
     */
    private static final class Found {
        final String name;
        final TemplateLoader loader;
        final Object source;

        Found(String name, TemplateLoader loader, Object source) {
            this.name = name;
            this.loader = loader;
            this.source = source;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Found f && f.loader == loader && f.source.equals(source);
        }

        @Override
        public int hashCode() {
            return source.hashCode();
        }

        @Override
        public String toString() {
            return source.toString();
        }
    }
}
