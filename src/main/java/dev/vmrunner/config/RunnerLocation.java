package dev.vmrunner.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

/**
 * Where the runner of a configuration file answers, for the commands that ask it ({@code status},
 * {@code console}). Asking must not depend on the file being valid: the runner keeps the last good
 * configuration when an edit is rejected, and a probe that failed on the edit would restart a VM
 * that runs well. So besides the validated configuration there are two lenient ways: the few keys
 * that place the runtime directory ({@code vm.name}, {@code runtimeDir}) read from YAML that parses
 * but does not validate, and for YAML that does not parse at all a link that each runner leaves
 * from a place derived from its configuration file's path to its runtime directory.
 *
 * @param name the VM's name as far as it is known (the file's name when the YAML does not parse)
 * @param runtimeDir the runtime directory, where the sockets are
 */
public record RunnerLocation(String name, Path runtimeDir) {

    /** Linux's limit on a file name, less room for the ".new" of a replacement. */
    private static final int MAX_NAME_BYTES = 255 - 4;

    /** A valid configuration's location. */
    public static RunnerLocation of(RunnerConfig config) {
        return new RunnerLocation(config.vm().name(), config.runtimeDir());
    }

    /**
     * The location of the runner of a file that was rejected: read leniently, else through the link
     * a runner left; {@code null} when neither tells.
     */
    public static RunnerLocation lenient(byte[] content, Path file, Map<String, String> env) {
        RunnerLocation read = read(content, file, env);
        if (read != null) {
            return read;
        }
        Path link = link(file, env);
        if (link == null) {
            return null;
        }
        try {
            Path runtimeDir = Files.readSymbolicLink(link);
            return new RunnerLocation(String.valueOf(runtimeDir.getFileName()), runtimeDir);
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /**
     * Leaves the link from the configuration file to the runtime directory (replacing an earlier
     * one). Best effort: without it only a file that no longer parses loses its runner.
     */
    public static void leaveLink(RunnerConfig config, Map<String, String> env) throws IOException {
        if (config.configFile() == null) {
            return;
        }
        Path link = link(config.configFile(), env);
        if (link == null) {
            return;
        }
        Files.createDirectories(link.getParent());
        Path fresh = link.resolveSibling(link.getFileName() + ".new");
        Files.deleteIfExists(fresh);
        Files.createSymbolicLink(fresh, config.runtimeDir());
        Files.move(
                fresh, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The link's path below {@link Directories#configLinks}: the file's absolute path as one file
     * name ({@code %} and {@code /} escaped as {@code %25} and {@code %2F}), readable and without
     * the cost of a hash on the start path; {@code null} for a path too long for a file name.
     */
    static Path link(Path file, Map<String, String> env) {
        String path = file.toAbsolutePath().normalize().toString();
        String name = path.replace("%", "%25").replace("/", "%2F");
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            return null;
        }
        return Directories.configLinks(env).resolve(name);
    }

    /** {@code vm.name} and {@code runtimeDir} from YAML that parses; null where it does not. */
    private static RunnerLocation read(byte[] content, Path file, Map<String, String> env) {
        Node root;
        try {
            ConfigFile.checkSize(content, file);
            root = BoundedYaml.compose(new String(content, StandardCharsets.UTF_8));
        } catch (ConfigException | RuntimeException e) {
            return null;
        }
        MappingNode runner = mapping(root, ConfigLoader.RUNNER_KEY);
        String name = Nodes.text(value(mapping(runner, "vm"), "name"));
        if (name == null || Check.name(name) != null) {
            return null;
        }
        String runtimeDir = Nodes.text(value(runner, "runtimeDir"));
        return new RunnerLocation(
                name,
                runtimeDir != null && !runtimeDir.isEmpty()
                        ? Directories.configured(runtimeDir, Directories.baseOf(file))
                        : Directories.defaultRuntimeDir(env, name));
    }

    private static MappingNode mapping(Node node, String key) {
        return value(node, key) instanceof MappingNode m ? m : null;
    }

    private static Node value(Node node, String key) {
        if (node instanceof MappingNode mapping) {
            for (NodeTuple tuple : mapping.getValue()) {
                if (key.equals(Nodes.text(tuple.getKeyNode()))) {
                    return tuple.getValueNode();
                }
            }
        }
        return null;
    }
}
