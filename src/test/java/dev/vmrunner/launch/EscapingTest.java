package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** No configuration value can add a QEMU argument or option, whatever characters it has. */
class EscapingTest {

    static final Path NO_DIR = Path.of("/nonexistent/templates");

    static RunnerConfig config(String vmLines) throws ConfigException {
        return ConfigLoader.parse(
                "\"/Runner\":\n  dataDir: /var/lib/t\n  runtimeDir: /run/t\n"
                        + "  vm:\n    firmware: bios\n    network: []\n"
                        + vmLines,
                Path.of("test.yaml"),
                Map.of());
    }

    static List<String> qemuArgv(RunnerConfig config) throws LaunchException {
        return Preparation.dryRun(config, NO_DIR, new Renderer(NO_DIR)).commands().qemu().argv();
    }

    /** Splits a QEMU option string the way QEMU does: ',' separates, ',,' is a comma. */
    static Map<String, String> qemuOptions(String option) {
        Map<String, String> result = new LinkedHashMap<>();
        List<String> parts = new ArrayList<>();
        StringBuilder part = new StringBuilder();
        for (int i = 0; i < option.length(); i++) {
            char c = option.charAt(i);
            if (c == ',' && i + 1 < option.length() && option.charAt(i + 1) == ',') {
                part.append(',');
                i++;
            } else if (c == ',') {
                parts.add(part.toString());
                part.setLength(0);
            } else {
                part.append(c);
            }
        }
        parts.add(part.toString());
        for (String p : parts) {
            int eq = p.indexOf('=');
            result.put(eq < 0 ? p : p.substring(0, eq), eq < 0 ? "" : p.substring(eq + 1));
        }
        return result;
    }

    static String optionAfter(List<String> argv, String flag, String containing) {
        for (int i = 0; i + 1 < argv.size(); i++) {
            if (argv.get(i).equals(flag) && argv.get(i + 1).contains(containing)) {
                return argv.get(i + 1);
            }
        }
        throw new AssertionError(flag + " with " + containing + " not in " + argv);
    }

    @Test
    void aCommaInADrivePathStaysInsideItsOption() throws Exception {
        RunnerConfig config =
                config(
                        """
                            name: commas
                            drives:
                              - type: ide-cd
                                file: "/srv/iso/a,format=qcow2,b.iso"
                              - type: raw
                                file: "/srv/vm/disk,readonly=on.img"
                        """);
        List<String> argv = qemuArgv(config);

        Map<String, String> cd = qemuOptions(optionAfter(argv, "-drive", "drive-cd0"));
        assertEquals("/srv/iso/a,format=qcow2,b.iso", cd.get("file"));
        assertEquals("raw", cd.get("format"), "the path must not set the format");
        assertEquals(
                List.of("id", "if", "media", "readonly", "format", "file"),
                List.copyOf(cd.keySet()));

        Map<String, String> disk = qemuOptions(optionAfter(argv, "-blockdev", "disk0-host"));
        assertEquals("/srv/vm/disk,readonly=on.img", disk.get("filename"));
        assertEquals(
                List.of("node-name", "driver", "filename", "discard"), List.copyOf(disk.keySet()));
    }

    @Test
    void quotesAndBackslashesInTheNameStayOneArgument() throws Exception {
        RunnerConfig config = config("    name: 'my \"vm\" \\\\ - [x], y'\n");
        List<String> argv = qemuArgv(config);

        Map<String, String> name = qemuOptions(optionAfter(argv, "-name", "guest="));
        assertEquals("my \"vm\" \\\\ - [x], y", name.get("guest"));
        assertEquals(List.of("guest", "debug-threads"), List.copyOf(name.keySet()));
        assertEquals(1, argv.stream().filter(a -> a.startsWith("guest=")).count());
    }

    @Test
    void aNameWithALineBreakIsRejectedNamingTheKey() {
        ConfigException e =
                assertThrows(ConfigException.class, () -> config("    name: \"two\\nlines\"\n"));
        assertTrue(e.getMessage().contains("vm.name"), e.getMessage());
    }

    @Test
    void plainInterpolationsCannotBreakTheYamlOfAnyTemplate() throws Exception {
        // A template without qv(), as upstream ones are: the YAML string still holds.
        TemplateSource template =
                new TemplateSource(
                        "plain",
                        """
                        "qemu":
                          "executable": [ "/bin/sh" ]
                          "arguments":
                            - [ "-name", "guest=${ vm.name }" ]
                            - "${ vm.name }"
                        """,
                        "plain");
        String hostile = "a\" ]\n    - \"-device\"\n    - \"evil\\ \u0001";
        Map<String, Object> model = Map.of("vm", Map.of("name", hostile));

        Commands commands = new Renderer(NO_DIR).render(template, model, false, false);

        assertEquals(
                List.of("/bin/sh", "-name", "guest=" + hostile, hostile), commands.qemu().argv());
    }

    @Test
    void qvRejectsControlCharactersWithAClearMessage() {
        TemplateSource template =
                new TemplateSource(
                        "t",
                        """
                        "qemu":
                          "executable": [ "/bin/sh" ]
                          "arguments": [ "file=${ qv(path) }" ]
                        """,
                        "t");
        LaunchException e =
                assertThrows(
                        LaunchException.class,
                        () ->
                                new Renderer(NO_DIR)
                                        .render(
                                                template,
                                                Map.of("path", "/srv/a\nb.iso"),
                                                false,
                                                false));
        assertTrue(e.getMessage().contains("control character"), e.getMessage());
        assertTrue(e.getMessage().contains("/srv/a\\nb.iso"), e.getMessage());
    }

    @Test
    void aCommaInTheDataDirCannotReachSwtpm() throws Exception {
        RunnerConfig config =
                ConfigLoader.parse(
                        "\"/Runner\":\n"
                                + "  dataDir: /var/lib/a,b\n"
                                + "  runtimeDir: /run/t\n"
                                + "  vm:\n"
                                + "    name: tpm\n"
                                + "    useTpm: true\n"
                                + "    firmware: bios\n",
                        Path.of("test.yaml"),
                        Map.of());
        LaunchException e =
                assertThrows(
                        LaunchException.class,
                        () -> Preparation.dryRun(config, NO_DIR, new Renderer(NO_DIR)));
        assertTrue(
                e.getMessage().contains("/var/lib/a,b") && e.getMessage().contains("comma"),
                e.getMessage());
    }
}
