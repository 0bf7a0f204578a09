package dev.vmrunner.config;

import java.io.StringReader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionEndEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.NodeEvent;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.parser.Parser;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Composes YAML text into nodes within bounds, so that no document can exhaust the stack, the heap
 * or the time of the code that walks the nodes (which may recurse: every walk is bounded by {@link
 * #MAX_DEPTH}).
 *
 * <ul>
 *   <li>at most {@link #MAX_DEPTH} levels of nesting, counted also through aliases;
 *   <li>at most {@link #MAX_NODES} values, in the text and once aliases are expanded (an alias
 *       "bomb" of a few lines expands to billions);
 *   <li>at most {@link #MAX_COLLECTION_ALIASES} aliases of lists or mappings;
 *   <li>no alias inside the collection it refers to ({@code a: &a [*a]} would be infinite).
 * </ul>
 */
final class BoundedYaml {

    static final int MAX_DEPTH = 32;
    static final int MAX_NODES = 20_000;
    static final int MAX_COLLECTION_ALIASES = 20;

    private BoundedYaml() {}

    /** The single document's root node, {@code null} for an empty document. */
    static Node compose(String yaml) throws ConfigException {
        LoaderOptions options = new LoaderOptions();
        // SnakeYAML's own limits back ours up; ours come first, with clearer messages.
        options.setNestingDepthLimit(MAX_DEPTH + 1);
        options.setMaxAliasesForCollections(MAX_COLLECTION_ALIASES + 1);
        options.setAllowRecursiveKeys(false);
        options.setCodePointLimit(ConfigFile.MAX_BYTES);
        try {
            Parser parser =
                    new Guard(new ParserImpl(new StreamReader(new StringReader(yaml)), options));
            Node root = new Composer(parser, new Resolver(), options).getSingleNode();
            if (root != null) {
                new Expansion().measure(root, 0);
            }
            return root;
        } catch (LimitExceeded e) {
            throw new ConfigException(List.of(e.getMessage()));
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
            String where =
                    mark == null
                            ? ""
                            : " at line "
                                    + (mark.getLine() + 1)
                                    + ", column "
                                    + (mark.getColumn() + 1);
            throw new ConfigException("Malformed YAML" + where + ": " + problem, e);
        } catch (YAMLException e) {
            throw new ConfigException("Malformed YAML: " + e.getMessage(), e);
        }
    }

    /** A bound was hit; the message names it and the line. */
    private static final class LimitExceeded extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LimitExceeded(Mark at, String message) {
            super((at == null ? "" : "line " + (at.getLine() + 1) + ": ") + message);
        }
    }

    /** Watches the parser's events: counts values and aliases, tracks open collections. */
    private static final class Guard implements Parser {
        private final Parser parser;
        private final Deque<Integer> open = new ArrayDeque<>();
        private final Set<Integer> openIds = new HashSet<>();
        private final Map<String, Integer> anchors = new HashMap<>();
        private final Set<Integer> collections = new HashSet<>();
        private int nextId;
        private int nodes;
        private int collectionAliases;

        Guard(Parser parser) {
            this.parser = parser;
        }

        @Override
        public boolean checkEvent(Event.ID choice) {
            return parser.checkEvent(choice);
        }

        @Override
        public Event peekEvent() {
            return parser.peekEvent();
        }

        @Override
        public Event getEvent() {
            Event event = parser.getEvent();
            if (event instanceof NodeEvent node) {
                count(node);
            }
            if (event instanceof CollectionStartEvent start) {
                opened(start);
            } else if (event instanceof CollectionEndEvent) {
                closed();
            } else if (event instanceof AliasEvent alias) {
                aliased(alias);
            } else if (event instanceof ScalarEvent scalar && scalar.getAnchor() != null) {
                anchors.put(scalar.getAnchor(), nextId++);
            }
            return event;
        }

        private void count(NodeEvent event) {
            if (++nodes > MAX_NODES) {
                throw new LimitExceeded(
                        event.getStartMark(),
                        "the configuration has more than " + MAX_NODES + " values");
            }
        }

        private void opened(CollectionStartEvent start) {
            if (open.size() >= MAX_DEPTH) {
                throw new LimitExceeded(
                        start.getStartMark(), "nested more than " + MAX_DEPTH + " levels deep");
            }
            int id = nextId++;
            open.push(id);
            openIds.add(id);
            collections.add(id);
            if (start.getAnchor() != null) {
                anchors.put(start.getAnchor(), id);
            }
        }

        private void closed() {
            Integer id = open.poll();
            if (id != null) {
                openIds.remove(id);
            }
        }

        private void aliased(AliasEvent alias) {
            Integer id = anchors.get(alias.getAnchor());
            if (id == null) {
                return; // the composer reports the undefined alias
            }
            if (openIds.contains(id)) {
                throw new LimitExceeded(
                        alias.getStartMark(),
                        "recursive alias *"
                                + alias.getAnchor()
                                + ": it refers to a list or mapping that contains it");
            }
            if (collections.contains(id) && ++collectionAliases > MAX_COLLECTION_ALIASES) {
                throw new LimitExceeded(
                        alias.getStartMark(),
                        "more than " + MAX_COLLECTION_ALIASES + " aliases of lists or mappings");
            }
        }
    }

    /** The size and depth of the tree that the nodes stand for, with aliases expanded. */
    private static final class Expansion {
        private record Measure(long size, int height) {}

        private final IdentityHashMap<Node, Measure> measured = new IdentityHashMap<>();

        /**
         * Measures {@code node}, which lies inside {@code enclosing} lists and mappings. Recurses
         * at most {@link #MAX_DEPTH} deep: a collection deeper than that is an error before it
         * recurses.
         */
        Measure measure(Node node, int enclosing) {
            Measure known = measured.get(node);
            boolean collection = node instanceof SequenceNode || node instanceof MappingNode;
            if (known == null) {
                if (collection && enclosing >= MAX_DEPTH) {
                    throw tooDeep(node);
                }
                known = collection ? children(node, enclosing + 1) : new Measure(1, 0);
                measured.put(node, known);
            }
            if (enclosing + known.height() > MAX_DEPTH) {
                throw tooDeep(node);
            }
            return known;
        }

        /** A collection: its size and height from its children, which lie in {@code enclosing}. */
        private Measure children(Node node, int enclosing) {
            long size = 1;
            int height = 0;
            List<Node> children = new ArrayList<>();
            if (node instanceof SequenceNode sequence) {
                children.addAll(sequence.getValue());
            } else {
                for (NodeTuple tuple : ((MappingNode) node).getValue()) {
                    children.add(tuple.getKeyNode());
                    children.add(tuple.getValueNode());
                }
            }
            for (Node child : children) {
                Measure m = measure(child, enclosing);
                size = add(size, m.size(), child);
                height = Math.max(height, m.height());
            }
            return new Measure(size, height + 1);
        }

        private static long add(long size, long more, Node at) {
            long sum = size + more;
            if (sum > MAX_NODES) {
                throw new LimitExceeded(
                        at.getStartMark(),
                        "the aliases expand the configuration to more than "
                                + MAX_NODES
                                + " values");
            }
            return sum;
        }

        private static LimitExceeded tooDeep(Node node) {
            return new LimitExceeded(
                    node.getStartMark(),
                    "nested more than " + MAX_DEPTH + " levels deep (counting through aliases)");
        }
    }
}
