package dev.vmrunner.launch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a template's output (YAML text, values marked where they hold a comma) into the commands of
 * a VM's processes, looking up which candidate executable is installed: the {@link Renderer}'s
 * second half, which needs no FreeMarker.
 */
final class TemplateOutput {
    /** The process that connects a {@code passt} interface to the host's network. */
    static final String PASST = "passt";

    private TemplateOutput() {}

    static Commands commands(
            TemplateSource source,
            String text,
            Marks marks,
            boolean useTpm,
            boolean cloudInit,
            boolean passt)
            throws LaunchException {
        Map<?, ?> processes = parseYaml(source, text);
        CommaGuard guard = new CommaGuard(source, marks);
        Optional<ProcessSpec> swtpm = Optional.empty();
        if (useTpm) {
            swtpm = Optional.of(spec(source, processes, "swtpm", guard));
        }
        Optional<ProcessSpec> seed = Optional.empty();
        if (cloudInit && processes.containsKey("cloudInitImg")) {
            seed = Optional.of(spec(source, processes, "cloudInitImg", guard));
        }
        Optional<ProcessSpec> passtSpec = Optional.empty();
        if (passt) {
            passtSpec = Optional.of(spec(source, processes, PASST, guard));
        }
        return new Commands(swtpm, seed, passtSpec, spec(source, processes, "qemu", guard));
    }

    /** The processes that a start with these settings runs. */
    static List<String> used(
            Map<?, ?> processes, boolean useTpm, boolean cloudInit, boolean passt) {
        List<String> names = new ArrayList<>(4);
        if (useTpm) {
            names.add("swtpm");
        }
        if (cloudInit && processes.containsKey("cloudInitImg")) {
            names.add("cloudInitImg");
        }
        if (passt) {
            names.add(PASST);
        }
        names.add("qemu");
        return names;
    }

    static Map<?, ?> parseYaml(TemplateSource source, String text) throws LaunchException {
        Object root;
        try {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine();
            String[] lines = text.split("\n", -1);
            String bad = line < lines.length ? Marks.strip(lines[line]).strip() : "";
            throw new LaunchException(
                    "Template "
                            + source.origin()
                            + " produced invalid YAML at output line "
                            + (line + 1)
                            + " ("
                            + e.getProblem()
                            + "): "
                            + bad
                            + " — check it with: vmrunner render --raw",
                    e);
        } catch (YAMLException e) {
            throw new LaunchException(
                    "Template " + source.origin() + " produced invalid YAML: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new LaunchException(
                    "Template "
                            + source.origin()
                            + " must produce a YAML mapping of process names (swtpm, cloudInitImg,"
                            + " passt, qemu)");
        }
        return map;
    }

    private static ProcessSpec spec(
            TemplateSource source, Map<?, ?> processes, String name, CommaGuard guard)
            throws LaunchException {
        if (!(processes.get(name) instanceof Map<?, ?> def)) {
            throw new LaunchException(
                    "Template "
                            + source.origin()
                            + " defines no \""
                            + name
                            + "\" process (a mapping with executable and arguments)");
        }
        List<String> arguments = new ArrayList<>();
        flatten(name + ".arguments", def.get("arguments"), arguments);
        return new ProcessSpec(
                name,
                executable(name, def.get("executable")),
                guard.resolve(name, arguments),
                environment(name, def.get("environment")));
    }

    private static Path executable(String name, Object value) throws LaunchException {
        List<String> candidates = new ArrayList<>();
        flatten(name + ".executable", value, candidates);
        candidates.replaceAll(Marks::strip);
        if (candidates.isEmpty()) {
            throw new LaunchException("Template gives no executable for " + name);
        }
        for (String candidate : candidates) {
            Path path = Path.of(candidate);
            if (Files.isRegularFile(path) && Files.isExecutable(path)) {
                return path;
            }
        }
        throw new LaunchException(
                "Failed to find the "
                        + name
                        + " executable: "
                        + (candidates.size() == 1
                                ? candidates.get(0) + " is not installed"
                                : "none of " + String.join(", ", candidates) + " is installed")
                        + (PASST.equals(name)
                                ? " (Debian/Ubuntu: apt-get install passt; or give the interface"
                                        + " type user with the same ports)"
                                : ""));
    }

    static void flatten(String where, Object value, List<String> into) throws LaunchException {
        if (value == null) {
            return;
        }
        if (value instanceof List<?> list) {
            for (Object element : list) {
                flatten(where, element, into);
            }
        } else if (value instanceof String || value instanceof Number || value instanceof Boolean) {
            into.add(String.valueOf(value));
        } else {
            throw new LaunchException(
                    "Template output "
                            + where
                            + " must hold strings or lists of strings, found a mapping: "
                            + Marks.strip(String.valueOf(value)));
        }
    }

    private static Map<String, String> environment(String name, Object value)
            throws LaunchException {
        Map<String, String> env = new LinkedHashMap<>();
        if (value == null) {
            return env;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach(
                    (k, v) ->
                            env.put(
                                    Marks.strip(String.valueOf(k)),
                                    Marks.strip(String.valueOf(v))));
            return env;
        }
        if (value instanceof List<?> list) {
            for (Object entry : list) {
                if (entry instanceof Map<?, ?> m && m.get("name") != null) {
                    env.put(
                            Marks.strip(String.valueOf(m.get("name"))),
                            Marks.strip(String.valueOf(m.get("value"))));
                } else {
                    throw new LaunchException(
                            "Template output "
                                    + name
                                    + ".environment entries need a name and a value, found: "
                                    + entry);
                }
            }
            return env;
        }
        throw new LaunchException(
                "Template output " + name + ".environment must be a list of {name, value}");
    }
}
