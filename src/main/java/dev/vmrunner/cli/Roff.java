package dev.vmrunner.cli;

/** A manual page in roff with the man macros: sections, paragraphs, tagged paragraphs. */
final class Roff {

    private final StringBuilder page = new StringBuilder();

    /** A request or a line of text, as is. */
    void line(String line) {
        page.append(line).append('\n');
    }

    void section(String name) {
        line(".SH " + name);
    }

    /** A paragraph of plain text, escaped. */
    void text(String text) {
        line(".PP");
        line(escapeLine(text));
    }

    /** A tagged paragraph: the tag (roff already) and the plain text below it, escaped. */
    void tagged(String tag, String text) {
        line(".TP");
        line(tag);
        line(escapeLine(text));
    }

    /**
     * Plain text as roff: backslashes and hyphens escaped (an option's "-" must stay a minus sign
     * to be copied into a shell), and a line that would read as a request kept as text.
     */
    static String escape(String text) {
        return text.replace("\\", "\\e").replace("-", "\\-");
    }

    private static String escapeLine(String text) {
        String escaped = escape(text.replace('\n', ' '));
        return escaped.startsWith(".") || escaped.startsWith("'") ? "\\&" + escaped : escaped;
    }

    @Override
    public String toString() {
        return page.toString();
    }
}
