package dev.vmrunner.config;

import java.util.Set;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/** What the configuration's readers ask of a single YAML node: null, standard, its text. */
final class Nodes {
    /** The tags of YAML's core and 1.1 types that a configuration needs; others are rejected. */
    private static final Set<Tag> STANDARD =
            Set.of(
                    Tag.STR,
                    Tag.INT,
                    Tag.FLOAT,
                    Tag.BOOL,
                    Tag.NULL,
                    Tag.TIMESTAMP,
                    Tag.SEQ,
                    Tag.MAP);

    private Nodes() {}

    static boolean isNull(Node node) {
        return node instanceof ScalarNode && node.getTag().equals(Tag.NULL);
    }

    static boolean isStandard(Tag tag) {
        return STANDARD.contains(tag);
    }

    /** A scalar's text, or {@code null} for collections and unsupported tags. */
    static String text(Node node) {
        return node instanceof ScalarNode scalar && isStandard(node.getTag())
                ? scalar.getValue()
                : null;
    }

    /**
     * A short description of a value for messages: {@code 'abc'}, {@code a list}, {@code a
     * mapping}.
     */
    static String describe(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        if (!isStandard(node.getTag())) {
            return "a value tagged " + node.getTag();
        }
        return "'" + ((ScalarNode) node).getValue() + "'";
    }
}
