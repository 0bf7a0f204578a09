package dev.vmrunner.launch;

import freemarker.core.Environment;
import freemarker.core.TemplateElement;
import freemarker.core._CoreAPI;
import freemarker.template.TemplateModelException;
import java.util.ArrayList;
import java.util.List;

/**
 * The interpolations of one rendering whose value contains a comma. The output format wraps each
 * such value in private-use characters ({@code U+E000 id U+E001 value U+E002}); they survive the
 * YAML parse inside the argument strings, so {@link CommaGuard} can see, per argument, where a
 * value from the configuration sits and escape or reject it. Nothing marked ever reaches a process:
 * {@link #strip} removes the marks.
 */
final class Marks {

    /** The name under which the rendering's {@code Environment} holds its marks. */
    static final String ATTRIBUTE = "dev.vmrunner.commaMarks";

    static final char START = '\uE000';
    static final char VALUE = '\uE001';
    static final char END = '\uE002';

    /** Where a marked value came from, for messages. */
    record Origin(String value, String expression, String template, int line) {
        /** {@code ${ drive.file } (template line 87)}. */
        String where() {
            return expression + (line > 0 ? " (template " + template + " line " + line + ")" : "");
        }
    }

    private final List<Origin> origins = new ArrayList<>();

    /**
     * Marks {@code escaped} (the YAML-escaped form of {@code value}) if the current rendering keeps
     * marks and the value has a comma; otherwise returns it unchanged.
     */
    static String mark(String value, String escaped) throws TemplateModelException {
        if (reserved(value) >= 0) {
            throw new TemplateModelException(
                    "Value \""
                            + YamlStringOutputFormat.escape(value)
                            + "\" contains a character that vmrunner reserves (U+E000 to U+E002)");
        }
        if (value.indexOf(',') < 0) {
            return escaped;
        }
        Environment env = Environment.getCurrentEnvironment();
        if (env == null || !(env.getCustomAttribute(ATTRIBUTE) instanceof Marks marks)) {
            return escaped;
        }
        int id = marks.origins.size();
        marks.origins.add(origin(env, value));
        return START + Integer.toString(id) + VALUE + escaped + END;
    }

    /** Where value {@code id} came from; a rendering taken from the cache knows no origins. */
    Origin origin(int id) {
        return id < origins.size() ? origins.get(id) : new Origin("", "a value", "", 0);
    }

    /** The index of the first reserved character in {@code text}, or -1. */
    static int reserved(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= START && c <= END) {
                return i;
            }
        }
        return -1;
    }

    /** {@code text} without marks: the values as the template interpolated them. */
    static String strip(String text) {
        if (reserved(text) < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        boolean inId = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == START) {
                inId = true;
            } else if (c == VALUE) {
                inId = false;
            } else if (c != END && !inId) {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** The interpolation being output: FreeMarker's instruction stack has it on top. */
    @SuppressWarnings("deprecation") // TemplateElement: "internal API"; the stack has no other
    private static Origin origin(Environment env, String value) {
        try {
            TemplateElement[] stack = _CoreAPI.getInstructionStackSnapshot(env);
            if (stack.length > 0) {
                TemplateElement top = stack[0];
                return new Origin(
                        value,
                        top.getCanonicalForm(),
                        top.getTemplate().getSourceName(),
                        top.getBeginLine());
            }
        } catch (RuntimeException e) {
            // An internal API of FreeMarker's: without it, messages name the value only.
        }
        return new Origin(value, "a value", "", 0);
    }
}
