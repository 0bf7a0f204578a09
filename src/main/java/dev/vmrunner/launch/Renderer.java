package dev.vmrunner.launch;

import freemarker.cache.ClassTemplateLoader;
import freemarker.cache.FileTemplateLoader;
import freemarker.cache.TemplateLoader;
import freemarker.core.Environment;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a template and its data model into the commands of a VM's processes. A pure function of its
 * inputs apart from looking up which candidate executable is installed. This class runs FreeMarker;
 * {@link TemplateOutput} reads its output into the commands.
 */
public final class Renderer {

    /** The templates this renderer sees, recording what each rendering looked up. */
    private final RecordingTemplateLoader recorder;

    /** Made on the first rendering: a start served from the {@link RenderCache} needs none. */
    private Configuration freemarker;

    private int renderings;
    private TemplateSource parsedFrom;
    private Template parsed;

    /**
     * @param templatesDir where {@code <#include>}d templates are looked up; the built-in templates
     *     are found after it
     */
    public Renderer(Path templatesDir) {
        TemplateLoader directory = null;
        if (Files.isDirectory(templatesDir)) {
            try {
                directory = new FileTemplateLoader(templatesDir.toFile());
            } catch (IOException e) {
                // Unreadable: includes are then found among the built-in templates only.
            }
        }
        recorder =
                new RecordingTemplateLoader(
                        directory, new ClassTemplateLoader(Renderer.class, "/templates"));
    }

    private Configuration freemarker() {
        if (freemarker == null) {
            freemarker = configuration(recorder);
        }
        return freemarker;
    }

    private static Configuration configuration(TemplateLoader loader) {
        Configuration freemarker = new Configuration(Configuration.VERSION_2_3_34);
        freemarker.setTemplateLoader(loader);
        freemarker.setDefaultEncoding(RecordingTemplateLoader.ENCODING);
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
        return freemarker;
    }

    /** Runs FreeMarker; the result is YAML text, the values as interpolated. */
    public String renderText(TemplateSource source, Map<String, Object> model)
            throws LaunchException {
        return Marks.strip(renderMarked(source, model).text());
    }

    /**
     * The template's YAML output, for {@code vmrunner render --raw}: refused where {@link #render}
     * refuses a value, so that both show the same outcome; output that is not valid YAML is still
     * shown, for the template's author to read.
     */
    public String renderRaw(
            TemplateSource source, Map<String, Object> model, boolean useTpm, boolean cloudInit)
            throws LaunchException {
        Rendered rendered = renderMarked(source, model);
        Map<?, ?> processes;
        try {
            processes = TemplateOutput.parseYaml(source, rendered.text());
        } catch (LaunchException e) {
            return Marks.strip(rendered.text());
        }
        CommaGuard guard = new CommaGuard(source, rendered.marks());
        for (String name :
                TemplateOutput.used(
                        processes, useTpm, cloudInit, TemplateModel.passtWanted(model))) {
            if (processes.get(name) instanceof Map<?, ?> def) {
                List<String> arguments = new ArrayList<>();
                try {
                    TemplateOutput.flatten(name + ".arguments", def.get("arguments"), arguments);
                } catch (LaunchException e) {
                    continue; // shown as it is
                }
                guard.resolve(name, arguments);
            }
        }
        return Marks.strip(rendered.text());
    }

    /** FreeMarker's output with the values that have a comma marked (see {@link Marks}). */
    private record Rendered(String text, Marks marks) {}

    private Rendered renderMarked(TemplateSource source, Map<String, Object> model)
            throws LaunchException {
        int reserved = Marks.reserved(source.text());
        if (reserved >= 0) {
            throw new LaunchException(
                    "Failed to parse template "
                            + source.origin()
                            + " at line "
                            + source.text().substring(0, reserved).split("\n", -1).length
                            + ": it contains a character that vmrunner reserves (U+E000 to"
                            + " U+E002)");
        }
        try {
            renderings++;
            // Every lookup of this rendering is recorded (for the render cache), none served from
            // an earlier one.
            freemarker().clearTemplateCache();
            recorder.clear();
            Template template = parse(source);
            StringWriter out = new StringWriter();
            Marks marks = new Marks();
            Environment env = template.createProcessingEnvironment(model, out);
            env.setCustomAttribute(Marks.ATTRIBUTE, marks);
            env.process();
            return new Rendered(out.toString(), marks);
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

    /** The parsed template; the last one is kept, for callers that render it often. */
    private synchronized Template parse(TemplateSource source) throws IOException {
        if (parsed == null || !parsedFrom.equals(source)) {
            parsed = new Template(source.name(), new StringReader(source.text()), freemarker());
            parsedFrom = source;
        }
        return parsed;
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
        Rendered rendered = renderMarked(source, model);
        return TemplateOutput.commands(
                source,
                rendered.text(),
                rendered.marks(),
                useTpm,
                cloudInit,
                TemplateModel.passtWanted(model));
    }

    /**
     * Like {@link #render(TemplateSource, Map, boolean, boolean)}, but takes the template's output
     * from {@code cache} when no input changed, and stores it there otherwise. The output is kept
     * with its marks, so that a cached start guards commas as a rendered one does.
     */
    public Commands render(
            TemplateSource source,
            Map<String, Object> model,
            boolean useTpm,
            boolean cloudInit,
            RenderCache cache)
            throws LaunchException {
        RenderCache.Inputs inputs = cache.inputs(source, model);
        String text = cache.find(inputs, recorder::unchanged);
        boolean passt = TemplateModel.passtWanted(model);
        if (text == null) {
            Rendered rendered = renderMarked(source, model);
            Commands commands =
                    TemplateOutput.commands(
                            source, rendered.text(), rendered.marks(), useTpm, cloudInit, passt);
            cache.store(inputs, recorder.lookups(), rendered.text());
            return commands;
        }
        return TemplateOutput.commands(source, text, new Marks(), useTpm, cloudInit, passt);
    }

    /** How often this renderer ran FreeMarker (for tests of the cache). */
    int renderings() {
        return renderings;
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
