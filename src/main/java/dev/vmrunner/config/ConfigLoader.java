package dev.vmrunner.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Loads a configuration file in the layout of a JGrapes {@code YamlConfigurationStore}: the
 * runner's configuration is the value of the top-level key {@code /Runner}; other top-level keys
 * configure other components and are ignored.
 *
 * <p>The file is only composed into YAML nodes, never constructed into Java objects, so no YAML tag
 * can instantiate a class; every line number in messages comes from the nodes. Hostile files are
 * bounded ({@link ConfigFile}: size, regular files only; {@link BoundedYaml}: nesting, aliases,
 * number of values), so loading answers every file quickly with a config or a {@link
 * ConfigException}. Loading is pure apart from reading the file and checking whether a raw drive's
 * {@code resource} is a regular file; no directory is created.
 *
 * <p>Decisions:
 *
 * <ul>
 *   <li>Numbers and booleans may be quoted ({@code "900"}, {@code "true"}); their text is checked
 *       strictly (decimal integers; {@code true}/{@code false} only).
 *   <li>A key with no value ({@code key:} or {@code ~}) counts as absent, except {@code
 *       vm.network}, where it means "no interfaces".
 *   <li>Relative {@code dataDir} and {@code runtimeDir} are resolved against the directory of the
 *       configuration file. {@code template} is left to the template loader; drive paths are left
 *       to QEMU.
 *   <li>Unknown keys within {@code /Runner} are warnings; keys starting with {@code /} (JGrapes
 *       sub-components) are ignored silently. Duplicate keys are errors.
 *   <li>Values are not expanded ({@code $HOME} in a value stays as it is).
 * </ul>
 */
public final class ConfigLoader {
    /** The top-level key that selects the runner's configuration. */
    public static final String RUNNER_KEY = "/Runner";

    /** A loaded configuration with the warnings to log (unknown keys, ignored values). */
    public record Loaded(RunnerConfig config, List<String> warnings) {
        public Loaded {
            warnings = List.copyOf(warnings);
        }
    }

    private ConfigLoader() {}

    /**
     * The environment that the default directories derive from: the process's variables and its
     * effective uid (root's directories do not depend on the variables, see {@link Directories}).
     */
    public static Map<String, String> hostEnvironment() {
        Map<String, String> env = new HashMap<>(System.getenv());
        try {
            // /proc/self belongs to the process's effective uid
            env.put(
                    Directories.UID,
                    String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid")));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // no /proc: the directories follow the variables, as for any user
        }
        return Map.copyOf(env);
    }

    /** Loads and validates {@code file}; see {@link #loadWithWarnings}. */
    public static RunnerConfig load(Path file, Map<String, String> env) throws ConfigException {
        return loadWithWarnings(file, env).config();
    }

    /** Parses and validates {@code yaml}; see {@link #parseWithWarnings}. */
    public static RunnerConfig parse(String yaml, Path file, Map<String, String> env)
            throws ConfigException {
        return parseWithWarnings(yaml, file, env).config();
    }

    /**
     * Reads {@code file} (UTF-8) and validates it.
     *
     * @param env the environment, for the default directories
     * @throws ConfigException if the file cannot be read or is invalid; lists every problem
     */
    public static Loaded loadWithWarnings(Path file, Map<String, String> env)
            throws ConfigException {
        return parseWithWarnings(readFile(file), file, env);
    }

    /**
     * Reads the file's bytes, e.g. to compare a later content with: a regular file of at most 1
     * MiB, read without ever holding more than that.
     */
    public static byte[] readFile(Path file) throws ConfigException {
        try {
            return ConfigFile.read(file);
        } catch (NoSuchFileException e) {
            throw ConfigFile.refused(file, "no such file");
        }
    }

    /** Validates the content of a file, which must be UTF-8 text. */
    public static Loaded parseWithWarnings(byte[] content, Path file, Map<String, String> env)
            throws ConfigException {
        ConfigFile.checkSize(content, file);
        String yaml;
        try {
            yaml = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(content)).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(
                    "Cannot read configuration file " + file + ": it is not UTF-8 text", e);
        }
        return parseWithWarnings(yaml, file, env);
    }

    /**
     * Validates {@code yaml}.
     *
     * @param file the file it came from (becomes {@link RunnerConfig#configFile()}, and the base of
     *     relative directories), or {@code null}
     * @param env the environment, for the default directories
     * @throws ConfigException listing every problem, each with its line and key
     */
    public static Loaded parseWithWarnings(String yaml, Path file, Map<String, String> env)
            throws ConfigException {
        try {
            return validate(BoundedYaml.compose(yaml), file, env);
        } catch (StackOverflowError e) {
            // Not expected within BoundedYaml's limits; a hostile file must still get an answer.
            throw new ConfigException("The configuration is nested too deeply to be read", e);
        }
    }

    private static Loaded validate(Node root, Path file, Map<String, String> env)
            throws ConfigException {
        Problems problems = new Problems();
        if (root == null || Nodes.isNull(root)) {
            throw new ConfigException(
                    List.of(
                            "The configuration is empty; expected the top-level key "
                                    + RUNNER_KEY));
        }
        if (!(root instanceof MappingNode top)) {
            problems.error(
                    root,
                    "",
                    "expected a mapping with the top-level key "
                            + RUNNER_KEY
                            + ", got "
                            + Nodes.describe(root));
            throw new ConfigException(problems.errors());
        }
        NodeTuple entry = runnerEntry(top, problems);
        Node runnerNode = entry == null ? null : entry.getValueNode();
        Section runner = null;
        if (entry == null) {
            problems.error(
                    top,
                    RUNNER_KEY,
                    "missing: the runner's configuration must be below"
                            + " the top-level key "
                            + RUNNER_KEY);
        } else if (Nodes.isNull(runnerNode)) {
            problems.error(entry.getKeyNode(), RUNNER_KEY, "has no value (vm.name is required)");
        } else if (runnerNode instanceof MappingNode) {
            // Paths below /Runner are written relative to it: vm.name, not /Runner.vm.name.
            runner = Section.of(runnerNode, entry.getKeyNode(), "", problems);
        } else {
            Section.of(runnerNode, RUNNER_KEY, problems); // reports the type
        }
        RunnerConfig config = runner == null ? null : RunnerReader.read(runner, file, env);
        if (problems.hasErrors() || config == null) {
            throw new ConfigException(problems.errors(), problems.warnings());
        }
        return new Loaded(config, problems.warnings());
    }

    /**
     * The {@code /Runner} entry of the top level. The other top-level entries belong to other
     * components; they are not looked at, not even for duplicates.
     */
    private static NodeTuple runnerEntry(MappingNode top, Problems problems) {
        NodeTuple found = null;
        for (NodeTuple tuple : top.getValue()) {
            if (RUNNER_KEY.equals(Nodes.text(tuple.getKeyNode()))) {
                if (found != null) {
                    problems.error(
                            tuple.getKeyNode(),
                            RUNNER_KEY,
                            "duplicate key (first at line "
                                    + Problems.line(found.getKeyNode())
                                    + ")");
                } else {
                    found = tuple;
                }
            }
        }
        return found;
    }
}
