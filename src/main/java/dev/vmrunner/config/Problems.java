package dev.vmrunner.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Collects errors and warnings while a configuration is read, so that all of them can be reported
 * at once. Every message reads {@code line N: key.path: what is wrong}.
 */
final class Problems {
    private record Entry(int line, String text) {}

    private static final Comparator<Entry> BY_LINE =
            new Comparator<>() {
                @Override
                public int compare(Entry a, Entry b) {
                    return Integer.compare(a.line(), b.line());
                }
            };

    static final int MAX_SHOWN = 50;
    static final int MAX_LENGTH = 400;

    private final List<Entry> errors = new ArrayList<>();
    private final List<Entry> warnings = new ArrayList<>();

    /** The 1-based line where {@code node} starts. */
    static int line(Node node) {
        return node.getStartMark().getLine() + 1;
    }

    void error(Node at, String path, String message) {
        errors.add(entry(line(at), path, message));
    }

    void error(int line, String path, String message) {
        errors.add(entry(line, path, message));
    }

    void warning(Node at, String path, String message) {
        warnings.add(entry(line(at), path, message));
    }

    boolean hasErrors() {
        return !errors.isEmpty();
    }

    List<String> errors() {
        return sorted(errors);
    }

    List<String> warnings() {
        return sorted(warnings);
    }

    private static Entry entry(int line, String path, String message) {
        String where = line > 0 ? "line " + line + ": " : "";
        return new Entry(
                line, shorten(where + shorten(path.isEmpty() ? "" : path + ": ") + message));
    }

    /** A message quotes values, which a hostile file makes a megabyte long. */
    static String shorten(String text) {
        return text.length() <= MAX_LENGTH
                ? text
                : text.substring(0, MAX_LENGTH) + "... (" + text.length() + " characters)";
    }

    /**
     * In document order; problems on the same line keep the order in which they were found. At most
     * {@link #MAX_SHOWN}: a hostile file can have thousands, and one screen tells what is wrong.
     */
    private static List<String> sorted(List<Entry> entries) {
        List<Entry> copy = new ArrayList<>(entries);
        copy.sort(BY_LINE); // stable
        List<String> texts = new ArrayList<>(Math.min(copy.size(), MAX_SHOWN + 1));
        for (Entry entry : copy.subList(0, Math.min(copy.size(), MAX_SHOWN))) {
            texts.add(entry.text());
        }
        if (copy.size() > MAX_SHOWN) {
            texts.add("... and " + (copy.size() - MAX_SHOWN) + " more like these");
        }
        return List.copyOf(texts);
    }
}
