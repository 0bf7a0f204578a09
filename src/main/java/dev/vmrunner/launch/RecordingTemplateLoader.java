package dev.vmrunner.launch;

import freemarker.cache.TemplateLoader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A template loader that records every lookup FreeMarker makes: each name with the text it read, or
 * null when no template of that name exists. {@link RenderCache} compares these against the
 * templates found now.
 */
final class RecordingTemplateLoader implements TemplateLoader {

    /** Templates are UTF-8, whatever the platform's default encoding. */
    static final String ENCODING = "UTF-8";

    private final TemplateLoader delegate;
    private final Map<String, String> lookups = new LinkedHashMap<>();
    private final Map<Object, String> names = new IdentityHashMap<>();

    RecordingTemplateLoader(TemplateLoader delegate) {
        this.delegate = delegate;
    }

    void clear() {
        lookups.clear();
        names.clear();
    }

    /** Every name looked up since {@link #clear()}, with the text read (null: not found). */
    Map<String, String> lookups() {
        return new LinkedHashMap<>(lookups);
    }

    @Override
    public Object findTemplateSource(String name) throws IOException {
        Object source = delegate.findTemplateSource(name);
        if (source == null) {
            lookups.putIfAbsent(name, null);
        } else {
            names.put(source, name);
        }
        return source;
    }

    @Override
    public long getLastModified(Object source) {
        return delegate.getLastModified(source);
    }

    @Override
    public Reader getReader(Object source, String encoding) throws IOException {
        String text = read(delegate, source, encoding);
        String name = names.get(source);
        if (name != null) {
            lookups.put(name, text);
        }
        return new StringReader(text);
    }

    @Override
    public void closeTemplateSource(Object source) throws IOException {
        delegate.closeTemplateSource(source);
    }

    /** The current text of a template by name through {@code loader}, null when there is none. */
    static Function<String, String> reader(TemplateLoader loader) {
        return name -> {
            try {
                Object source = loader.findTemplateSource(name);
                if (source == null) {
                    return null;
                }
                try {
                    return read(loader, source, ENCODING);
                } finally {
                    loader.closeTemplateSource(source);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
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
}
