package dev.vmrunner.launch;

import freemarker.cache.ClassTemplateLoader;
import freemarker.cache.FileTemplateLoader;
import freemarker.cache.MultiTemplateLoader;
import freemarker.cache.TemplateLoader;
import freemarker.core.InvalidReferenceException;
import freemarker.core.ParseException;
import freemarker.template.Configuration;
import freemarker.template.Template;
import freemarker.template.TemplateException;
import freemarker.template.TemplateExceptionHandler;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Turns a template and its data model into the commands of a VM's processes. A pure function of its
 * inputs apart from looking up which candidate executable is installed.
 */
public final class Renderer {

    private final Configuration freemarker;

    /**
     * @param templatesDir where {@code <#include>}d templates are looked up; the built-in templates
     *     are found after it
     */
    public Renderer(Path templatesDir) {
        freemarker = new Configuration(Configuration.VERSION_2_3_34);
        List<TemplateLoader> loaders = new ArrayList<>(2);
        if (Files.isDirectory(templatesDir)) {
            try {
                loaders.add(new FileTemplateLoader(templatesDir.toFile()));
            } catch (IOException e) {
                // Unreadable: includes are then found among the built-in templates only.
            }
        }
        loaders.add(new ClassTemplateLoader(Renderer.class, "/templates"));
        freemarker.setTemplateLoader(
                new MultiTemplateLoader(loaders.toArray(new TemplateLoader[0])));
        freemarker.setRegisteredCustomOutputFormats(List.of(YamlStringOutputFormat.INSTANCE));
        freemarker.setOutputFormat(YamlStringOutputFormat.INSTANCE);
        freemarker.setAutoEscapingPolicy(Configuration.ENABLE_IF_DEFAULT_AUTO_ESCAPING_POLICY);
        // Locale-free numbers: a grouping comma in "${ n }" would be an option separator to QEMU.
        freemarker.setLocale(Locale.ROOT);
        freemarker.setNumberFormat("computer");
        freemarker.setTemplateExceptionHandler(TemplateExceptionHandler.RETHROW_HANDLER);
        freemarker.setLogTemplateExceptions(false);
        freemarker.setWrapUncheckedExceptions(true);
        freemarker.setFallbackOnNullLoopVariable(false);
        freemarker.setSharedVariable("qv", QemuValueFunctions.QV);
        freemarker.setSharedVariable("commaFree", QemuValueFunctions.COMMA_FREE);
    }

    /** Runs FreeMarker; the result is YAML text. */
    public String renderText(TemplateSource source, Map<String, Object> model)
            throws LaunchException {
        try {
            Template template =
                    new Template(source.name(), new StringReader(source.text()), freemarker);
            StringWriter out = new StringWriter();
            template.process(model, out);
            return out.toString();
        } catch (ParseException e) {
            throw new LaunchException(
                    "Failed to parse template "
                            + source.origin()
                            + " at line "
                            + e.getLineNumber()
                            + ": "
                            + e.getEditorMessage(),
                    e);
        } catch (InvalidReferenceException e) {
            throw new LaunchException(
                    "Failed to render template "
                            + source.origin()
                            + at(e, source)
                            + ": "
                            + (e.getBlamedExpressionString() == null
                                    ? "a value"
                                    : "${ " + e.getBlamedExpressionString() + " }")
                            + " is null or missing (test optional values with ?? or give a"
                            + " default with !)",
                    e);
        } catch (TemplateException e) {
            throw new LaunchException(
                    "Failed to render template "
                            + source.origin()
                            + firstLine(e.getMessageWithoutStackTop())
                            + where(e),
                    e);
        } catch (IOException e) {
            throw new LaunchException(
                    "Failed to render template " + source.origin() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Renders and parses the commands.
     *
     * @param useTpm whether swtpm is wanted (the template may define it regardless)
     * @param cloudInit whether a cloud-init seed image is wanted
     */
    public Commands render(
            TemplateSource source, Map<String, Object> model, boolean useTpm, boolean cloudInit)
            throws LaunchException {
        String text = renderText(source, model);
        Map<?, ?> processes = parseYaml(source, text);
        Optional<ProcessSpec> swtpm = Optional.empty();
        if (useTpm) {
            swtpm = Optional.of(spec(source, processes, "swtpm"));
        }
        Optional<ProcessSpec> seed = Optional.empty();
        if (cloudInit && processes.containsKey("cloudInitImg")) {
            seed = Optional.of(spec(source, processes, "cloudInitImg"));
        }
        return new Commands(swtpm, seed, spec(source, processes, "qemu"));
    }

    private static Map<?, ?> parseYaml(TemplateSource source, String text) throws LaunchException {
        Object root;
        try {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine();
            String[] lines = text.split("\n", -1);
            String bad = line < lines.length ? lines[line].strip() : "";
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
                            + " qemu)");
        }
        return map;
    }

    private static ProcessSpec spec(TemplateSource source, Map<?, ?> processes, String name)
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
                arguments,
                environment(name, def.get("environment")));
    }

    private static Path executable(String name, Object value) throws LaunchException {
        List<String> candidates = new ArrayList<>();
        flatten(name + ".executable", value, candidates);
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
                                : "none of " + String.join(", ", candidates) + " is installed"));
    }

    private static void flatten(String where, Object value, List<String> into)
            throws LaunchException {
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
                            + value);
        }
    }

    private static Map<String, String> environment(String name, Object value)
            throws LaunchException {
        Map<String, String> env = new LinkedHashMap<>();
        if (value == null) {
            return env;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> env.put(String.valueOf(k), String.valueOf(v)));
            return env;
        }
        if (value instanceof List<?> list) {
            for (Object entry : list) {
                if (entry instanceof Map<?, ?> m && m.get("name") != null) {
                    env.put(String.valueOf(m.get("name")), String.valueOf(m.get("value")));
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

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int nl = message.indexOf('\n');
        return ": " + (nl < 0 ? message : message.substring(0, nl)).strip();
    }

    /** " at line L, column C", naming an included template when the error is in one. */
    private static String at(TemplateException e, TemplateSource source) {
        StringBuilder b = new StringBuilder();
        String in = e.getTemplateSourceName();
        if (in != null && !in.equals(source.name())) {
            b.append(" (in the included template ").append(in).append(')');
        }
        if (e.getLineNumber() != null) {
            b.append(" at line ").append(e.getLineNumber());
            if (e.getColumnNumber() != null) {
                b.append(", column ").append(e.getColumnNumber());
            }
        }
        return b.toString();
    }

    private static String where(TemplateException e) {
        return e.getLineNumber() == null ? "" : " (template line " + e.getLineNumber() + ")";
    }
}
