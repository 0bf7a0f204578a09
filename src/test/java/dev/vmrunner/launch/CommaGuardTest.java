package dev.vmrunner.launch;

import static dev.vmrunner.launch.EscapingTest.optionAfter;
import static dev.vmrunner.launch.EscapingTest.qemuOptions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A value with a comma never adds a QEMU option, also with a template that does not use qv():
 * escaped inside an option value, refused elsewhere, with the same outcome for render and raw.
 */
class CommaGuardTest {

    static final Path TEMPLATES = Path.of("src/test/resources/templates");
    static final String UPSTREAM = "upstream-style.ftl.yaml";

    static RunnerConfig config(String runnerLines, String vmLines) throws ConfigException {
        return config("/var/lib/t", runnerLines, vmLines);
    }

    static RunnerConfig config(String dataDir, String runnerLines, String vmLines)
            throws ConfigException {
        return ConfigLoader.parse(
                "\"/Runner\":\n  dataDir: "
                        + dataDir
                        + "\n  runtimeDir: /run/t\n"
                        + "  template: "
                        + UPSTREAM
                        + "\n"
                        + runnerLines
                        + "  vm:\n"
                        + (vmLines.contains("name:") ? "" : "    name: t\n")
                        + "    firmware: bios\n    network: []\n"
                        + vmLines,
                Path.of("test.yaml"),
                Map.of());
    }

    static Commands render(RunnerConfig config) throws LaunchException {
        return Preparation.dryRun(config, TEMPLATES, new Renderer(TEMPLATES)).commands();
    }

    static String raw(RunnerConfig config) throws LaunchException {
        return Preparation.dryRunYaml(config, TEMPLATES, new Renderer(TEMPLATES));
    }

    /** A one-off template with these qemu arguments (YAML list items). */
    static Commands renderQemu(String argumentLines, Map<String, Object> model)
            throws LaunchException {
        TemplateSource template =
                new TemplateSource(
                        "t.ftl.yaml",
                        "\"qemu\":\n  \"executable\": [ \"/bin/sh\" ]\n  \"arguments\":\n"
                                + argumentLines,
                        "t.ftl.yaml");
        return new Renderer(TEMPLATES).render(template, model, false, false);
    }

    @Test
    void aPlainInterpolationInsideDriveIsEscaped() throws Exception {
        RunnerConfig config =
                config(
                        "",
                        "    drives:\n      - type: ide-cd\n        file: a,format=qcow2,b.iso\n");
        List<String> argv = render(config).qemu().argv();
        String drive = optionAfter(argv, "-drive", "id=cd0");
        assertEquals("id=cd0,if=none,media=cdrom,readonly=on,file=a,,format=qcow2,,b.iso", drive);
        Map<String, String> options = qemuOptions(drive);
        assertEquals("a,format=qcow2,b.iso", options.get("file"));
        assertFalse(options.containsKey("format"), drive);
    }

    @Test
    void escapingHoldsInTheMiddleOfAValueAndForEveryPlainInterpolation() throws Exception {
        RunnerConfig config =
                config(
                        "",
                        "    name: 'a,b'\n"
                                + "    drives:\n      - type: raw\n        file: /srv/x,y.img\n");
        List<String> argv = render(config).qemu().argv();
        assertEquals("guest=a,,b,debug-threads=on", optionAfter(argv, "-name", "guest="));
        assertEquals(
                "/srv/x,y.img",
                qemuOptions(optionAfter(argv, "-blockdev", "disk0-host")).get("filename"));
    }

    @Test
    void aCpuModelWithFeaturesStaysAsItIs() throws Exception {
        RunnerConfig config = config("", "    cpuModel: host,+vmx,-svm\n");
        List<String> argv = render(config).qemu().argv();
        assertEquals("host,+vmx,-svm", argv.get(argv.indexOf("-cpu") + 1));
    }

    @Test
    void aCommaForSwtpmIsRefusedNamingValueAndLine() throws Exception {
        RunnerConfig config = config("/var/lib/a,b", "", "    useTpm: true\n");
        LaunchException e = assertThrows(LaunchException.class, () -> render(config));
        assertEquals(
                "Failed to render template "
                        + TEMPLATES.resolve(UPSTREAM)
                        + ": the value \"/var/lib/a,b\" of ${dataDir} (template line 13) contains"
                        + " a comma and swtpm's options cannot escape a comma; choose a path or"
                        + " name without ','",
                e.getMessage());
        assertEquals(
                e.getMessage(),
                assertThrows(LaunchException.class, () -> raw(config)).getMessage());
    }

    @Test
    void withoutTpmTheDataDirMayHaveACommaAndTheShellScriptTakesItAsItIs() throws Exception {
        RunnerConfig config = config("/var/lib/a,b", "  cloudInit:\n    metaData: {}\n", "");
        Commands commands = render(config);
        assertTrue(
                commands.cloudInitImg()
                        .orElseThrow()
                        .arguments()
                        .get(1)
                        .contains("/var/lib/a,b/cloud-init/meta-data"));
        assertTrue(raw(config).contains("/var/lib/a,b/cloud-init/meta-data"));
    }

    @Test
    void aValueThatIsTheWholeOptionListIsRefused() {
        LaunchException e =
                assertThrows(
                        LaunchException.class,
                        () ->
                                renderQemu(
                                        "    - \"-S\"\n    - [ \"-name\", \"${ name }\" ]\n",
                                        Map.of("name", "x,debug-threads=on")));
        assertEquals(
                "Failed to render template t.ftl.yaml: the value \"x,debug-threads=on\" of"
                        + " ${name} (template line 5) contains a comma and it is not inside the"
                        + " value of a key=... option of QEMU argument 3 (-name"
                        + " \"x,debug-threads=on\"), so it would add options; use it only after"
                        + " key= or choose a value without ','",
                e.getMessage());
    }

    @Test
    void aValueInAKeyOrAfterNoOptionOrInJsonIsRefused() {
        for (String arguments :
                List.of(
                        "    - [ \"-device\", \"virtio-blk,${ v }=1\" ]\n",
                        "    - \"${ v }\"\n",
                        "    - [ \"-drive\", \"file=a,${ v }\" ]\n",
                        "    - [ \"-blockdev\", '{\"driver\":\"file\",\"filename\":\"${ v }\"}'"
                                + " ]\n")) {
            LaunchException e =
                    assertThrows(
                            LaunchException.class,
                            () -> renderQemu(arguments, Map.of("v", "a,b")),
                            arguments);
            assertTrue(e.getMessage().contains("the value \"a,b\" of ${v}"), e.getMessage());
        }
    }

    @Test
    void plainArgumentsAndQvAreLeftAlone() throws Exception {
        Commands commands =
                renderQemu(
                        "    - [ \"-kernel\", \"${ v }\" ]\n"
                                + "    - [ \"-append\", \"root=${ v }\" ]\n"
                                + "    - [ \"-drive\", \"file=${ qv(v) },if=none\" ]\n"
                                + "    - [ \"-drive\", \"file=${ v?no_esc },if=none\" ]\n",
                        Map.of("v", "a,b"));
        assertEquals(
                List.of(
                        "-kernel",
                        "a,b",
                        "-append",
                        "root=a,b",
                        "-drive",
                        "file=a,,b,if=none",
                        "-drive",
                        "file=a,b,if=none"),
                commands.qemu().arguments());
    }

    @Test
    void valuesWithoutACommaAreNotTouched() throws Exception {
        Commands commands =
                renderQemu("    - [ \"-name\", \"${ v }\" ]\n", Map.of("v", "plain=value"));
        assertEquals(List.of("-name", "plain=value"), commands.qemu().arguments());
    }

    @Test
    void reservedCharactersAreRefused() {
        LaunchException e =
                assertThrows(
                        LaunchException.class,
                        () ->
                                renderQemu(
                                        "    - [ \"-drive\", \"file=${ v }\" ]\n",
                                        Map.of("v", "a\uE0000\uE001,b\uE002")));
        assertTrue(e.getMessage().contains("reserves"), e.getMessage());
    }

    @Test
    void inOptionValueFollowsQemusCommaRules() {
        assertTrue(CommaGuard.inOptionValue("file="));
        assertTrue(CommaGuard.inOptionValue("id=x,file=/a/"));
        assertTrue(CommaGuard.inOptionValue("file=a,,b"));
        assertFalse(CommaGuard.inOptionValue("file=a,"));
        assertFalse(CommaGuard.inOptionValue(""));
        assertFalse(CommaGuard.inOptionValue("virtio-blk"));
        assertFalse(CommaGuard.inOptionValue("a=b,c"));
    }
}
