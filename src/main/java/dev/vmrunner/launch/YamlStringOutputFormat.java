package dev.vmrunner.launch;

import freemarker.core.CommonMarkupOutputFormat;
import freemarker.core.CommonTemplateMarkupOutputModel;
import freemarker.template.TemplateModelException;
import java.io.IOException;
import java.io.Writer;

/**
 * FreeMarker output format that escapes every interpolation for a double-quoted YAML scalar.
 * Templates put values inside {@code "..."}, so with this format as the default a value containing
 * quotes, backslashes or line breaks cannot end the string early or add list entries: it stays one
 * argument. Values with a comma are also marked, so that the renderer can keep them from adding
 * QEMU options ({@link CommaGuard}).
 */
public final class YamlStringOutputFormat
        extends CommonMarkupOutputFormat<YamlStringOutputFormat.Markup> {

    public static final YamlStringOutputFormat INSTANCE = new YamlStringOutputFormat();

    private YamlStringOutputFormat() {}

    @Override
    public String getName() {
        return "YAMLString";
    }

    @Override
    public String getMimeType() {
        return "application/yaml";
    }

    /** Escapes, and marks a value with a comma for {@link CommaGuard}. */
    @Override
    public void output(String text, Writer out) throws IOException, TemplateModelException {
        out.write(Marks.mark(text, escape(text)));
    }

    @Override
    public String escapePlainText(String text) throws TemplateModelException {
        return Marks.mark(text, escape(text));
    }

    @Override
    public boolean isLegacyBuiltInBypassed(String builtInName) {
        return false;
    }

    @Override
    protected Markup newTemplateMarkupOutputModel(String plainText, String markup) {
        return new Markup(plainText, markup);
    }

    /** Escapes text for the inside of a YAML double-quoted scalar (YAML 1.1 and 1.2 alike). */
    public static String escape(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String replacement =
                    switch (c) {
                        case '"' -> "\\\"";
                        case '\\' -> "\\\\";
                        case '\n' -> "\\n";
                        case '\r' -> "\\r";
                        case '\t' -> "\\t";
                        default ->
                                c < 0x20 || c == 0x7f || c == 0x85 || c == 0x2028 || c == 0x2029
                                        ? String.format("\\u%04x", (int) c)
                                        : null;
                    };
            if (replacement == null) {
                if (out != null) {
                    out.append(c);
                }
                continue;
            }
            if (out == null) {
                out = new StringBuilder(text.length() + 8).append(text, 0, i);
            }
            out.append(replacement);
        }
        return out == null ? text : out.toString();
    }

    /** Already escaped YAML string content. */
    public static final class Markup extends CommonTemplateMarkupOutputModel<Markup> {
        Markup(String plainText, String markup) {
            super(plainText, markup);
        }

        @Override
        public YamlStringOutputFormat getOutputFormat() {
            return INSTANCE;
        }
    }
}
