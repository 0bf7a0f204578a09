package dev.vmrunner.config;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Converts YAML nodes to plain, deeply unmodifiable Java values, for data that the runner passes on
 * without interpreting it (cloud-init). Only the standard YAML tags are accepted; nothing but maps,
 * lists, strings, numbers, booleans and {@code null} is ever created. Timestamps and binary scalars
 * stay strings (their text), so that they are written out again unchanged. The recursion is as deep
 * as the nodes, which {@link BoundedYaml} limits.
 */
final class PlainValues {
    private static final Pattern DECIMAL = Pattern.compile("[-+]?(0|[1-9][0-9_]*)");
    private static final Pattern HEX = Pattern.compile("[-+]?0x[0-9a-fA-F_]+");
    private static final Pattern OCTAL = Pattern.compile("[-+]?0o?[0-7_]+");
    private static final Pattern BINARY = Pattern.compile("[-+]?0b[01_]+");

    private PlainValues() {}

    /**
     * Converts {@code node}; reports unsupported tags and duplicate keys to {@code problems} under
     * {@code path} and returns {@code null} for them.
     */
    static Object convert(Node node, String path, Problems problems) {
        if (node instanceof MappingNode mapping) {
            return convertMapping(mapping, path, problems);
        }
        if (node instanceof SequenceNode sequence) {
            if (!sequence.getTag().equals(Tag.SEQ)) {
                problems.error(node, path, "unsupported YAML tag " + sequence.getTag());
                return null;
            }
            List<Object> list = new ArrayList<>(sequence.getValue().size());
            int index = 0;
            for (Node item : sequence.getValue()) {
                String itemPath = path.concat("[").concat(Integer.toString(index++)).concat("]");
                list.add(convert(item, itemPath, problems));
            }
            return Collections.unmodifiableList(list);
        }
        return convertScalar((ScalarNode) node, path, problems);
    }

    private static Map<String, Object> convertMapping(
            MappingNode mapping, String path, Problems problems) {
        if (!mapping.getTag().equals(Tag.MAP)) {
            problems.error(mapping, path, "unsupported YAML tag " + mapping.getTag());
            return null;
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (NodeTuple tuple : mapping.getValue()) {
            Node keyNode = tuple.getKeyNode();
            if (!(keyNode instanceof ScalarNode key)) {
                problems.error(keyNode, path, "keys must be scalars");
                continue;
            }
            String keyPath = path.concat(".").concat(key.getValue());
            if (map.containsKey(key.getValue())) {
                problems.error(keyNode, keyPath, "duplicate key");
                continue;
            }
            map.put(key.getValue(), convert(tuple.getValueNode(), keyPath, problems));
        }
        return Collections.unmodifiableMap(map);
    }

    private static Object convertScalar(ScalarNode scalar, String path, Problems problems) {
        Tag tag = scalar.getTag();
        String text = scalar.getValue();
        if (tag.equals(Tag.STR) || tag.equals(Tag.TIMESTAMP) || tag.equals(Tag.BINARY)) {
            return text;
        }
        if (tag.equals(Tag.NULL)) {
            return null;
        }
        if (tag.equals(Tag.BOOL)) {
            return bool(text);
        }
        if (tag.equals(Tag.INT)) {
            Object number = integer(text);
            return number != null ? number : text;
        }
        if (tag.equals(Tag.FLOAT)) {
            return floating(text);
        }
        problems.error(scalar, path, "unsupported YAML tag " + tag);
        return null;
    }

    private static Boolean bool(String text) {
        switch (text.toLowerCase(Locale.ROOT)) {
            case "true":
            case "yes":
            case "y":
            case "on":
                return Boolean.TRUE;
            default:
                return Boolean.FALSE;
        }
    }

    /** YAML 1.1 integers (decimal, 0x, 0o or leading 0, 0b); {@code null} for other forms. */
    private static Number integer(String text) {
        String digits = text.replace("_", "");
        int radix;
        String body;
        if (DECIMAL.matcher(text).matches()) {
            radix = 10;
            body = digits;
        } else if (HEX.matcher(text).matches()) {
            radix = 16;
            body = digits.replaceFirst("0x", "");
        } else if (BINARY.matcher(text).matches()) {
            radix = 2;
            body = digits.replaceFirst("0b", "");
        } else if (OCTAL.matcher(text).matches()) {
            radix = 8;
            body = digits.replaceFirst("0o?", "");
        } else {
            return null;
        }
        if (body.isEmpty() || body.equals("-") || body.equals("+")) {
            return 0L;
        }
        BigInteger value = new BigInteger(body, radix);
        return value.bitLength() < 64 ? (Number) value.longValue() : value;
    }

    private static Object floating(String text) {
        String value = text.replace("_", "");
        switch (value.toLowerCase(Locale.ROOT)) {
            case ".inf":
            case "+.inf":
                return Double.POSITIVE_INFINITY;
            case "-.inf":
                return Double.NEGATIVE_INFINITY;
            case ".nan":
                return Double.NaN;
            default:
                try {
                    return Double.valueOf(value);
                } catch (NumberFormatException e) {
                    return text; // e.g. sexagesimal 1:30.5; kept verbatim
                }
        }
    }

    /**
     * A deeply unmodifiable copy preserving order and {@code null}s; {@code null} stays {@code
     * null}.
     */
    static Map<String, Object> freezeMap(Map<String, Object> map) {
        if (map == null) {
            return null;
        }
        Map<String, Object> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Object> entry : map.entrySet()) {
            copy.put(entry.getKey(), freeze(entry.getValue()));
        }
        return Collections.unmodifiableMap(copy);
    }

    private static Object freeze(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> copy = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                copy.put(entry.getKey(), freeze(entry.getValue()));
            }
            return Collections.unmodifiableMap(copy);
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            for (Object item : list) {
                copy.add(freeze(item));
            }
            return Collections.unmodifiableList(copy);
        }
        return value;
    }
}
