package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The template output cache: reused only while every input is the same. */
class RenderCacheTest {

    @TempDir Path dir;

    private static final String MAIN =
            "<#include \"part.ftl.yaml\">\n"
                    + "\"qemu\":\n"
                    + "  \"executable\": \"/bin/sh\"\n"
                    + "  \"arguments\": [ \"${ vm.name }\", \"${ part }\" ]\n";

    private Path templates() throws Exception {
        Path templates = Files.createDirectories(dir.resolve("templates"));
        Files.writeString(templates.resolve("part.ftl.yaml"), "<#assign part = \"one\">\n");
        return templates;
    }

    private RenderCache cache(String build) {
        return new RenderCache(dir.resolve("data").resolve(RenderCache.FILE), build);
    }

    private static Map<String, Object> model(String name) {
        return Map.of("vm", Map.of("name", name));
    }

    /** Renders MAIN with a fresh renderer (as a new start does); returns QEMU's arguments. */
    private String start(Path templates, TemplateSource source, Map<String, Object> model, int runs)
            throws Exception {
        Files.createDirectories(dir.resolve("data"));
        Renderer renderer = new Renderer(templates);
        Commands commands = renderer.render(source, model, false, false, cache("build 1"));
        assertEquals(runs, renderer.renderings(), "FreeMarker runs");
        return String.join(" ", commands.qemu().arguments());
    }

    private static TemplateSource main(String text) {
        return new TemplateSource("main.ftl.yaml", text, "test");
    }

    @Test
    void aStartWithTheSameInputsSkipsFreeMarker() throws Exception {
        Path templates = templates();
        assertEquals("vm1 one", start(templates, main(MAIN), model("vm1"), 1));
        assertEquals("vm1 one", start(templates, main(MAIN), model("vm1"), 0));
    }

    @Test
    void anyChangedInputRendersAgain() throws Exception {
        Path templates = templates();
        start(templates, main(MAIN), model("vm1"), 1);
        // The model (the configuration's values).
        assertEquals("vm2 one", start(templates, main(MAIN), model("vm2"), 1));
        // The template's text.
        assertEquals("vm2 one", start(templates, main(MAIN + "# changed\n"), model("vm2"), 1));
        // An included template.
        Files.writeString(templates.resolve("part.ftl.yaml"), "<#assign part = \"two\">\n");
        assertEquals("vm2 two", start(templates, main(MAIN + "# changed\n"), model("vm2"), 1));
        assertEquals("vm2 two", start(templates, main(MAIN + "# changed\n"), model("vm2"), 0));
    }

    @Test
    void aTemplateThatAppearsWhereALookupFoundNoneRendersAgain() throws Exception {
        Path templates = templates();
        String main = "<#include \"extra.ftl.yaml\" ignore_missing=true>\n<#assign x = 1>\n" + MAIN;
        assertEquals("vm1 one", start(templates, main(main), model("vm1"), 1));
        Files.writeString(templates.resolve("extra.ftl.yaml"), "<#assign part = \"extra\">\n");
        // part.ftl.yaml is included after extra, so its value wins; the point is the new render.
        assertEquals("vm1 one", start(templates, main(main), model("vm1"), 1));
        Files.writeString(templates.resolve("part.ftl.yaml"), "<#-- none -->\n");
        assertEquals("vm1 extra", start(templates, main(main), model("vm1"), 1));
    }

    @Test
    void anotherBuildRendersAgain() throws Exception {
        Path templates = templates();
        start(templates, main(MAIN), model("vm1"), 1);
        Renderer renderer = new Renderer(templates);
        renderer.render(main(MAIN), model("vm1"), false, false, cache("build 2"));
        assertEquals(1, renderer.renderings());
    }

    @Test
    void templatesReadingTheClockAreNeverCached() throws Exception {
        Path templates = templates();
        String main = MAIN + "# ${ .now?string.iso }\n";
        start(templates, main(main), model("vm1"), 1);
        start(templates, main(main), model("vm1"), 1);
        assertFalse(Files.exists(dir.resolve("data").resolve(RenderCache.FILE)));
    }

    @Test
    void aDamagedCacheFileIsRenderedOver() throws Exception {
        Path templates = templates();
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data").resolve(RenderCache.FILE), "{ not json");
        assertEquals("vm1 one", start(templates, main(MAIN), model("vm1"), 1));
        assertEquals("vm1 one", start(templates, main(MAIN), model("vm1"), 0));
    }

    @Test
    void aTemplateThatShadowsABuiltInOneRendersAgain() throws Exception {
        Path templates = templates();
        String main =
                "<#assign t = .get_optional_template(\"Standard-VM-latest.ftl.yaml\")>\n"
                        + "<#if t.exists><#assign part = \"built-in\"></#if>\n"
                        + MAIN.substring(MAIN.indexOf('\n') + 1);
        assertEquals("vm1 built-in", start(templates, main(main), model("vm1"), 1));
        assertEquals("vm1 built-in", start(templates, main(main), model("vm1"), 0));
        Files.writeString(templates.resolve("Standard-VM-latest.ftl.yaml"), "# mine\n");
        assertEquals("vm1 built-in", start(templates, main(main), model("vm1"), 1));
        assertEquals("vm1 built-in", start(templates, main(main), model("vm1"), 0));
        Files.delete(templates.resolve("Standard-VM-latest.ftl.yaml"));
        assertEquals("vm1 built-in", start(templates, main(main), model("vm1"), 1));
    }

    @Test
    void aCacheFileCutAnywhereOrWithAnOverlongFieldIsAMiss() throws Exception {
        Path templates = templates();
        start(templates, main(MAIN), model("vm1"), 1);
        Path file = dir.resolve("data").resolve(RenderCache.FILE);
        String whole = Files.readString(file);
        RenderCache cache = cache("build 1");
        RenderCache.Inputs inputs = cache.inputs(main(MAIN), model("vm1"));
        assertNotNull(cache.find(inputs, (name, lookup) -> true));
        for (int cut = 0; cut < whole.length() - 1; cut++) {
            Files.writeString(file, whole.substring(0, cut));
            assertNull(cache.find(inputs, (name, lookup) -> true), "cut at " + cut);
        }
        int first = whole.indexOf('\n') + 1;
        for (String length : List.of("2147483647", "-1", "99999999999", "x")) {
            Files.writeString(
                    file, whole.substring(0, first) + length + whole.substring(whole.indexOf(':')));
            assertNull(cache.find(inputs, (name, lookup) -> true), length);
        }
    }

    @Test
    @SuppressWarnings("JavaUtilDate") // SnakeYAML gives YAML timestamps as java.util.Date
    void theModelEncodingKeepsTypesApartAndRefusesUnknownOnes() {
        RenderCache cache = cache("build");
        List<Object> values =
                List.of(
                        "1",
                        1,
                        1L,
                        1.0,
                        new BigDecimal("1.0"),
                        true,
                        "true",
                        List.of("1"),
                        Map.of("1", "1"),
                        new Date(1),
                        List.of(),
                        Map.of());
        Set<String> encodings = new HashSet<>();
        for (Object value : values) {
            encodings.add(cache.inputs(main(MAIN), Map.of("v", value)).model());
        }
        assertEquals(values.size(), encodings.size());
        assertNotEquals(
                cache.inputs(main(MAIN), Map.of("a", "b", "c", "d")).model(),
                cache.inputs(main(MAIN), Map.of("a", "b:1:c", "d", "")).model());
        assertNull(cache.inputs(main(MAIN), Map.of("v", new Object())));
        assertNull(cache.inputs(main(MAIN), Map.of("v", List.of(new byte[1]))));
    }

    @Test
    void noCacheWithoutABuildIdentity() {
        assertNull(cache(null).inputs(main(MAIN), model("vm1")));
        assertNotNull(cache("build").inputs(main(MAIN), model("vm1")));
        // Under surefire the classes come from a directory, which can change unseen.
        assertTrue(
                RenderCache.buildIdentity() == null
                        || RenderCache.buildIdentity().contains("java"));
    }
}
