package dev.vmrunner.cli;

/**
 * One JSON object on one line, built by hand: the log formatter runs for every record, and Gson's
 * classes would cost the start path for what is string escaping. Every string is valid JSON
 * whatever it holds: quotes, backslashes and control characters (line breaks included, so the
 * object stays on one line) are escaped, and so are U+2028/U+2029 and unpaired surrogates (which
 * UTF-8 cannot encode).
 */
final class JsonLine {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final StringBuilder json = new StringBuilder(192).append('{');

    /** Adds {@code "name":"value"}, or {@code "name":null}. */
    JsonLine field(String name, String value) {
        if (json.length() > 1) {
            json.append(',');
        }
        string(name);
        json.append(':');
        if (value == null) {
            json.append("null");
        } else {
            string(value);
        }
        return this;
    }

    /** The object and a line break. */
    String end() {
        return json.append("}\n").toString();
    }

    private void string(String s) {
        json.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || lone(s, i)) {
                        unicode(c);
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        json.append('"');
    }

    /** A surrogate without its other half. */
    private static boolean lone(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
        }
        return false;
    }

    private void unicode(char c) {
        json.append("\\u")
                .append(HEX[c >> 12 & 0xf])
                .append(HEX[c >> 8 & 0xf])
                .append(HEX[c >> 4 & 0xf])
                .append(HEX[c & 0xf]);
    }
}
