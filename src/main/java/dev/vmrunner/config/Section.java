package dev.vmrunner.config;

import static dev.vmrunner.config.Nodes.describe;
import static dev.vmrunner.config.Nodes.isNull;
import static dev.vmrunner.config.Nodes.isStandard;
import static dev.vmrunner.config.Nodes.text;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * One YAML mapping of the configuration, read key by key with strict types.
 *
 * <p>Getters return {@code null} when a key is absent, has a {@code null} value, or has a value of
 * the wrong type (which is then reported to {@link Problems}). Keys that were never asked for are
 * reported as warnings by {@link #warnUnused()}.
 *
 * <p>Scalars are taken by their text, quoted or not: {@code "900"} is a valid integer and {@code
 * "true"} a valid boolean, because files written for the upstream runner (whose binding coerced
 * such values) quote freely. The text itself is checked strictly: integers are decimal digits,
 * booleans {@code true}/{@code false} in any case, nothing else ({@code yes}, {@code on}, {@code
 * 0x10}, {@code 1e3}).
 */
final class Section {
    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]+");

    private final MappingNode node;
    private final Node owner;
    private final String path;
    private final Problems problems;
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
    private final Set<String> used = new HashSet<>();

    private Section(MappingNode node, Node owner, String path, Problems problems) {
        this.node = node;
        this.owner = owner;
        this.path = path;
        this.problems = problems;
        collect(node, true);
    }

    /**
     * Wraps {@code value} if it is a mapping; reports any other non-null value as a type error.
     *
     * @return the section, or {@code null} for an absent, null or wrongly typed value
     */
    static Section of(Node value, String path, Problems problems) {
        return of(value, null, path, problems);
    }

    /**
     * Like {@link #of(Node, String, Problems)}; {@code owner} is the key that holds the mapping,
     * whose line is used for messages about missing keys.
     */
    static Section of(Node value, Node owner, String path, Problems problems) {
        if (value == null || isNull(value)) {
            return null;
        }
        if (!(value instanceof MappingNode mapping)) {
            problems.error(
                    value, path, "expected a mapping (key: value lines), got " + describe(value));
            return null;
        }
        if (!isStandard(mapping.getTag())) {
            problems.error(value, path, "unsupported YAML tag " + mapping.getTag());
            return null;
        }
        return new Section(mapping, owner, path, problems);
    }

    /**
     * Records the entries, explicit keys first; keys from merge keys ({@code <<}) do not override.
     */
    private void collect(MappingNode mapping, boolean explicit) {
        List<NodeTuple> merges = new ArrayList<>();
        for (NodeTuple tuple : mapping.getValue()) {
            Node keyNode = tuple.getKeyNode();
            if (keyNode.getTag().equals(Tag.MERGE)) {
                merges.add(tuple);
                continue;
            }
            if (!(keyNode instanceof ScalarNode key)) {
                problems.error(
                        keyNode, path, "keys must be plain strings, got " + describe(keyNode));
                continue;
            }
            if (!entries.containsKey(key.getValue())) {
                entries.put(key.getValue(), tuple);
            } else if (explicit) {
                problems.error(
                        keyNode,
                        pathOf(key.getValue()),
                        "duplicate key (first at line "
                                + Problems.line(entries.get(key.getValue()).getKeyNode())
                                + ")");
            }
        }
        for (NodeTuple merge : merges) {
            Node value = merge.getValueNode();
            List<Node> sources =
                    value instanceof SequenceNode seq ? seq.getValue() : List.of(value);
            for (Node source : sources) {
                if (source instanceof MappingNode sourceMapping) {
                    collect(sourceMapping, false);
                } else {
                    problems.error(source, path, "a merge key (<<) needs a mapping");
                }
            }
        }
    }

    String path() {
        return path;
    }

    /** The full key path of {@code key} in messages, e.g. {@code vm.network[0].mac}. */
    String pathOf(String key) {
        // concat, not +: runs for every key, and avoids bootstrapping string concatenation
        // (invokedynamic) during start-up.
        return path.isEmpty() ? key : path.concat(".").concat(key);
    }

    Problems problems() {
        return problems;
    }

    /**
     * The line for messages about the mapping as a whole, such as a missing key: the line of the
     * key that holds it, else where the mapping starts (for a list item, its "-").
     */
    int line() {
        return Problems.line(owner != null ? owner : node);
    }

    /** Whether the key is present, even with a {@code null} value. Marks it as used. */
    boolean has(String key) {
        used.add(key);
        return entries.containsKey(key);
    }

    /** The value node, or {@code null} if absent or null. Marks the key as used. */
    Node value(String key) {
        used.add(key);
        NodeTuple tuple = entries.get(key);
        if (tuple == null || isNull(tuple.getValueNode())) {
            return null;
        }
        return tuple.getValueNode();
    }

    /** The node of the key itself (for messages), or the mapping's owner if the key is absent. */
    Node keyNode(String key) {
        NodeTuple tuple = entries.get(key);
        if (tuple != null) {
            return tuple.getKeyNode();
        }
        return owner != null ? owner : node;
    }

    /**
     * The name under which a key with aliases was given; reports giving more than one of them.
     *
     * @return the key that is present, or the first name if none is
     */
    String alias(String... names) {
        String found = null;
        for (String name : names) {
            used.add(name);
            if (entries.containsKey(name)) {
                if (found != null) {
                    problems.error(
                            keyNode(name),
                            pathOf(name),
                            "give either " + found + " or " + name + ", not both");
                } else {
                    found = name;
                }
            }
        }
        return found != null ? found : names[0];
    }

    /** A scalar's text. Collections are reported as type errors. */
    String string(String key) {
        Node value = value(key);
        if (value == null) {
            return null;
        }
        String text = text(value);
        if (text == null) {
            problems.error(value, pathOf(key), "expected a string, got " + describe(value));
        }
        return text;
    }

    Boolean bool(String key) {
        Node value = value(key);
        if (value == null) {
            return null;
        }
        String text = text(value);
        if ("true".equalsIgnoreCase(text)) {
            return Boolean.TRUE;
        }
        if ("false".equalsIgnoreCase(text)) {
            return Boolean.FALSE;
        }
        problems.error(value, pathOf(key), "expected true or false, got " + describe(value));
        return null;
    }

    /** An integer in {@code [min, max]}, or {@code null} if absent or wrong. */
    Long integer(String key, long min, long max) {
        Node value = value(key);
        if (value == null) {
            return null;
        }
        String text = text(value);
        if (text == null || !INTEGER.matcher(text).matches()) {
            problems.error(value, pathOf(key), "expected an integer, got " + describe(value));
            return null;
        }
        long number;
        try {
            number = Long.parseLong(text);
        } catch (NumberFormatException e) { // more digits than a long holds
            problems.error(
                    value,
                    pathOf(key),
                    text.startsWith("-")
                            ? range(min, max) + ", got " + text
                            : text + " is too large");
            return null;
        }
        if (number < min || number > max) {
            boolean unbounded = max == Long.MAX_VALUE || max == Integer.MAX_VALUE;
            problems.error(
                    value,
                    pathOf(key),
                    number > max && unbounded
                            ? text + " is too large"
                            : range(min, max) + ", got " + text);
            return null;
        }
        return number;
    }

    /** Like {@link #integer(String, long, long)}, with a default for absent values. */
    int integer(String key, int min, int max, int defaultValue) {
        Long number = integer(key, (long) min, (long) max);
        return number == null ? defaultValue : number.intValue();
    }

    boolean bool(String key, boolean defaultValue) {
        Boolean value = bool(key);
        return value == null ? defaultValue : value;
    }

    /** A size in bytes (see {@link Sizes}), or {@code null} if absent or wrong. */
    Long size(String key) {
        Node value = value(key);
        if (value == null) {
            return null;
        }
        String text = text(value);
        if (text == null) {
            problems.error(
                    value, pathOf(key), "expected a size such as 1G, got " + describe(value));
            return null;
        }
        try {
            return Sizes.parseBytes(text);
        } catch (IllegalArgumentException e) {
            problems.error(value, pathOf(key), e.getMessage());
            return null;
        }
    }

    /** A nested mapping, or {@code null}. */
    Section section(String key) {
        Node value = value(key);
        return of(
                value, value == null ? null : entries.get(key).getKeyNode(), pathOf(key), problems);
    }

    /** A sequence's items, or {@code null} if absent, null or not a sequence (reported). */
    List<Node> list(String key) {
        Node value = value(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof SequenceNode sequence) || !isStandard(value.getTag())) {
            problems.error(
                    value,
                    pathOf(key),
                    "expected a list (lines starting with -), got " + describe(value));
            return null;
        }
        return sequence.getValue();
    }

    /** Reports every key that no getter asked for. */
    void warnUnused() {
        for (Map.Entry<String, NodeTuple> entry : entries.entrySet()) {
            if (!used.contains(entry.getKey())) {
                String similar = KeySpelling.similar(entry.getKey(), used);
                String home = KeyHomes.elsewhere(path, entry.getKey());
                problems.warning(
                        entry.getValue().getKeyNode(),
                        pathOf(entry.getKey()),
                        home != null
                                ? "not a key of this section, ignored: it belongs " + home
                                : "unknown key, ignored"
                                        + (similar == null
                                                ? ""
                                                : " (did you mean " + similar + "?)"));
            }
        }
    }

    /** Marks keys starting with {@code prefix} as used, without looking at them. */
    void ignoreKeysStartingWith(String prefix) {
        for (String key : entries.keySet()) {
            if (key.startsWith(prefix)) {
                used.add(key);
            }
        }
    }

    private static String range(long min, long max) {
        if (max == Long.MAX_VALUE || max == Integer.MAX_VALUE) {
            return "must be at least " + min;
        }
        return "must be between " + min + " and " + max;
    }
}
