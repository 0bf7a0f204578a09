package dev.vmrunner.launch;

import freemarker.template.TemplateMethodModelEx;
import freemarker.template.TemplateModelException;
import freemarker.template.TemplateNumberModel;
import freemarker.template.TemplateScalarModel;
import java.util.List;

/**
 * The functions templates use to place a value inside a comma-separated option list.
 *
 * <ul>
 *   <li>{@code ${ qv(x) }}: a value inside a QEMU option ({@code -drive file=${ qv(path) },...}).
 *       QEMU's option parser reads {@code ,,} as a literal comma, so commas are doubled and the
 *       value cannot add options.
 *   <li>{@code ${ commaFree(x) }}: a value for a parser that has no escape for commas (swtpm's
 *       {@code --tpmstate dir=...}). A value containing a comma fails the rendering with a message
 *       naming it.
 * </ul>
 *
 * Both reject control characters, which no option parser can take safely.
 */
final class QemuValueFunctions {

    private QemuValueFunctions() {}

    static final TemplateMethodModelEx QV =
            arguments -> {
                String value = checked("qv", arguments);
                // Markup: already escaped, so the output format neither escapes nor marks it.
                return YamlStringOutputFormat.INSTANCE.fromMarkup(
                        YamlStringOutputFormat.escape(value.replace(",", ",,")));
            };

    static final TemplateMethodModelEx COMMA_FREE =
            arguments -> {
                String value = checked("commaFree", arguments);
                if (value.indexOf(',') >= 0) {
                    throw new TemplateModelException(
                            "Value \""
                                    + value
                                    + "\" contains a comma, which this option cannot escape;"
                                    + " choose a path or name without ','");
                }
                return value;
            };

    private static String checked(String function, List<?> arguments)
            throws TemplateModelException {
        if (arguments.size() != 1) {
            throw new TemplateModelException(function + "() takes exactly one argument");
        }
        Object arg = arguments.get(0);
        String value;
        if (arg instanceof TemplateScalarModel scalar) {
            value = scalar.getAsString();
        } else if (arg instanceof TemplateNumberModel number) {
            value = number.getAsNumber().toString();
        } else {
            throw new TemplateModelException(
                    function
                            + "() needs a string or number, got "
                            + (arg == null ? "nothing" : arg.getClass().getSimpleName()));
        }
        if (Marks.reserved(value) >= 0) {
            throw new TemplateModelException(
                    "Value \""
                            + YamlStringOutputFormat.escape(value)
                            + "\" contains a character that vmrunner reserves (U+E000 to U+E002)");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new TemplateModelException(
                        "Value \""
                                + YamlStringOutputFormat.escape(value)
                                + "\" contains a control character and cannot be passed as an"
                                + " option value");
            }
        }
        return value;
    }
}
