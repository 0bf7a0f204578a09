package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The launcher's commands and its answers to bad input, as a user sees them. */
class CommandLineIT {

    @TempDir Path dir;

    record Result(int code, String out) {}

    Result vmrunner(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(TestVm.LAUNCHER.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(Waits.seconds(60).toMillis(), TimeUnit.MILLISECONDS), "vmrunner hung");
        return new Result(p.exitValue(), out);
    }

    Path config(String vmLines) throws IOException {
        Path config = dir.resolve("config.yaml");
        Files.writeString(
                config,
                "\"/Runner\":\n  dataDir: "
                        + dir.resolve("data")
                        + "\n  runtimeDir: "
                        + dir.resolve("run")
                        + "\n  vm:\n"
                        + vmLines);
        return config;
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "render", "check"})
    void helpAndVersionOnEveryCommand(String command) throws Exception {
        Result help = command.isEmpty() ? vmrunner("--help") : vmrunner(command, "--help");
        assertEquals(0, help.code(), help.out());
        assertTrue(help.out().contains("--config"), help.out());
        Result version = command.isEmpty() ? vmrunner("--version") : vmrunner(command, "--version");
        assertEquals(0, version.code(), version.out());
        assertTrue(version.out().startsWith("vmrunner "), version.out());
    }

    @Test
    void helpListsTheCommandsAndGivesEachOnesHelp() throws Exception {
        Result overview = vmrunner("help");
        assertEquals(0, overview.code(), overview.out());
        for (String command : List.of("run", "render", "status", "check", "help")) {
            assertTrue(overview.out().contains("\n  " + command + " "), overview.out());
        }
        assertTrue(overview.out().contains("vmrunner help COMMAND"), overview.out());
        String commands = overview.out().substring(overview.out().indexOf("Commands:"));
        commands = commands.substring(0, commands.indexOf("\n\n"));
        Result runHelp = vmrunner("--help");
        assertTrue(runHelp.out().contains(commands), "no command list: " + runHelp.out());
        Result check = vmrunner("help", "check");
        assertEquals(0, check.code(), check.out());
        assertEquals(vmrunner("check", "--help").out(), check.out());
    }

    @Test
    void helpForAnUnknownCommandListsTheCommands() throws Exception {
        Result r = vmrunner("help", "frobnicate");
        assertEquals(2, r.code(), r.out());
        assertTrue(
                r.out()
                        .contains(
                                "Unknown command: frobnicate (commands: run, render, status,"
                                        + " console, migrate, check,"),
                r.out());
    }

    @Test
    void versionNamesTheCommit() throws Exception {
        Result r = vmrunner("--version");
        assertTrue(
                r.out()
                        .lines()
                        .findFirst()
                        .orElse("")
                        .matches(
                                "vmrunner [0-9][^ ]* \\(commit"
                                        + " ([0-9a-f]{7,40}(-dirty)?|unknown)\\)"),
                r.out());
    }

    @Test
    void helpListsTheExitCodes() throws Exception {
        Result help = vmrunner("--help");
        assertTrue(
                help.out().contains("Exit codes:") && help.out().contains("powerdownTimeout"),
                help.out());
    }

    @Test
    void renderPrintsOneArgumentPerLineAndWritesNothing() throws Exception {
        Path config = config("    name: shown\n    firmware: bios\n    accelerator: tcg\n");
        Result r = vmrunner("render", "-c", config.toString());
        assertEquals(0, r.code(), r.out());
        List<String> lines = r.out().lines().toList();
        assertEquals("# qemu", lines.get(0));
        assertTrue(lines.contains("guest=shown,debug-threads=on"), r.out());
        assertTrue(lines.contains("-S"), r.out());
        assertFalse(Files.exists(dir.resolve("data")), "render wrote the data directory");
        assertFalse(Files.exists(dir.resolve("run")), "render made the runtime directory");
    }

    @Test
    void checkAcceptsAGoodConfiguration() throws Exception {
        Path config = config("    name: fine\n    firmware: uefi\n    network: []\n");
        Result r = vmrunner("check", "-c", config.toString());
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("OK"), r.out());
    }

    /**
     * The host checks follow what the template renders: the configuration's default network (a tap
     * on br0, which this host need not have) is no reason to refuse a template without NICs.
     */
    @Test
    void aTemplateWithoutNicsNeedsNoBridge() throws Exception {
        Path config =
                configWithTemplate(
                        """
                        "qemu":
                          "executable": [ "/usr/bin/qemu-system-x86_64" ]
                          "arguments": [ "-S", "-nodefaults" ]
                        """);
        Files.writeString(
                config,
                Files.readString(config).replace("    network: []\n", "    accelerator: tcg\n"));
        Result r = checkWithTemplates(config);
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("OK"), r.out());
    }

    /** {@code accelerator: kvm} is checked against this host's /dev/kvm, at check and start. */
    @Test
    void kvmNeedsAUsableDevice() throws Exception {
        Path config = config("    name: k\n    firmware: bios\n    network: []\n");
        Path kvm = Path.of("/dev/kvm");
        boolean usable = Files.isReadable(kvm) && Files.isWritable(kvm);
        for (String command : new String[] {"check", "run"}) {
            Result r =
                    command.equals("run")
                            ? vmrunner("-c", config.toString(), "--templates-dir", dir.toString())
                            : vmrunner("check", "-c", config.toString());
            if (usable) {
                assertFalse(r.out().contains("vm.accelerator (kvm)"), command + ": " + r.out());
                if (command.equals("check")) {
                    assertEquals(0, r.code(), r.out());
                }
            } else {
                assertEquals(2, r.code(), command + ": " + r.out());
                assertTrue(
                        r.out().contains("vm.accelerator (kvm): /dev/kvm")
                                && r.out().contains("accelerator: tcg"),
                        command + ": " + r.out());
                assertFalse(Files.exists(dir.resolve("run")), "something was started");
            }
            if (command.equals("check") && usable) {
                break; // a start with KVM is the e2e tests' business
            }
        }
    }

    /** The display password's files are validated whenever they exist, display or not. */
    @Test
    void anEmptyDisplayPasswordFileIsAnErrorAlsoWithoutADisplay() throws Exception {
        Path config =
                config("    name: p\n    firmware: bios\n    accelerator: tcg\n    network: []\n");
        Files.writeString(dir.resolve("display-password"), "\n");
        Result r = vmrunner("check", "-c", config.toString());
        assertEquals(2, r.code(), r.out());
        assertTrue(r.out().contains(dir.resolve("display-password") + " is empty"), r.out());
        Files.writeString(dir.resolve("display-password"), "pw\n");
        Files.writeString(dir.resolve("password-expiry"), "soon\n");
        r = vmrunner("check", "-c", config.toString());
        assertEquals(2, r.code(), r.out());
        assertTrue(r.out().contains(dir.resolve("password-expiry").toString()), r.out());
        Files.writeString(dir.resolve("password-expiry"), "+3600\n");
        r = vmrunner("check", "-c", config.toString());
        assertEquals(0, r.code(), r.out());
    }

    @Test
    void aKeyInTheWrongSectionIsToldWhereItBelongs() throws Exception {
        Path config =
                config(
                        "    name: w\n    firmware: bios\n    accelerator: tcg\n    network: []\n"
                                + "    template: mine.ftl.yaml\n");
        Result r = vmrunner("check", "-c", config.toString());
        assertEquals(0, r.code(), r.out());
        assertTrue(
                r.out()
                        .contains(
                                "vm.template: not a key of this section, ignored: it belongs"
                                        + " directly below /Runner (template, not vm.template)"),
                r.out());
    }

    private Result checkWithTemplates(Path config) throws Exception {
        return vmrunner(
                "check",
                "-c",
                config.toString(),
                "--templates-dir",
                dir.resolve("templates").toString());
    }

    /** A config naming template {@code t.ftl.yaml} in {@code dir/templates}, with this text. */
    Path configWithTemplate(String templateText) throws IOException {
        Path templates = Files.createDirectories(dir.resolve("templates"));
        Files.writeString(templates.resolve("t.ftl.yaml"), templateText);
        Path config = config("    name: x\n    firmware: bios\n    network: []\n");
        Files.writeString(
                config, Files.readString(config).replace("  vm:", "  template: t.ftl.yaml\n  vm:"));
        return config;
    }

    static Stream<Arguments> badInputs() {
        return Stream.of(
                Arguments.of("missing name", "    firmware: bios\n", "vm.name"),
                Arguments.of(
                        "unknown firmware", "    name: x\n    firmware: floppy\n", "vm.firmware"),
                Arguments.of(
                        "currentRam above maximumRam",
                        "    name: x\n    maximumRam: 1G\n    currentRam: 2G\n",
                        "vm.currentRam"),
                Arguments.of(
                        "negative size", "    name: x\n    maximumRam: -5G\n", "vm.maximumRam"),
                Arguments.of("malformed YAML", "    name: [x\n", "line"),
                Arguments.of(
                        "tap NIC on a bridge that does not exist",
                        "    name: x\n    firmware: bios\n    network:\n      - type: tap\n"
                                + "        bridge: vmrt-none0\n",
                        "vm.network[0].bridge (vmrt-none0): no such bridge on this host"),
                Arguments.of(
                        "CD image that does not exist",
                        "    name: x\n    firmware: bios\n    network: []\n    drives:\n"
                                + "      - type: ide-cd\n        file: \"\"\n"
                                + "      - type: ide-cd\n        file: /nonexistent/a.iso\n",
                        "vm.drives[1].file: no such file: /nonexistent/a.iso"),
                Arguments.of(
                        "disk that does not exist",
                        "    name: x\n    firmware: bios\n    network: []\n    drives:\n"
                                + "      - type: raw\n        file: /nonexistent/disk.img\n",
                        "vm.drives[0].file: no such file: /nonexistent/disk.img"),
                Arguments.of(
                        "size echoed as written",
                        "    name: x\n    maximumRam: 1GB\n    currentRam: 2GB\n",
                        "vm.currentRam: 2GB is larger than vm.maximumRam (1GB)"),
                Arguments.of(
                        "missing template",
                        "    name: x\n  template: nowhere.ftl.yaml\n",
                        "nowhere.ftl.yaml"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void badInputIsOneClearMessageAndStartsNothing(String what, String vmLines, String named)
            throws Exception {
        Path config = config(vmLines);
        for (String command : new String[] {"run", "check"}) {
            Result r =
                    command.equals("run")
                            ? vmrunner("-c", config.toString())
                            : vmrunner("check", "-c", config.toString());
            assertEquals(2, r.code(), what + ": " + r.out());
            assertTrue(r.out().contains(named), what + " should name " + named + ": " + r.out());
            assertFalse(r.out().contains("Exception"), "a stack trace: " + r.out());
            assertFalse(Files.exists(dir.resolve("run")), "something was started for " + what);
        }
    }

    @Test
    void missingQemuBinaryIsNamed() throws Exception {
        Path config =
                configWithTemplate(
                        """
                        "qemu":
                          "executable": [ "/nonexistent/qemu-system-x86_64" ]
                          "arguments": [ "-S" ]
                        """);
        Result r =
                vmrunner(
                        "-c",
                        config.toString(),
                        "--templates-dir",
                        dir.resolve("templates").toString());
        assertEquals(2, r.code(), r.out());
        assertTrue(r.out().contains("/nonexistent/qemu-system-x86_64 is not installed"), r.out());
        assertFalse(Files.exists(dir.resolve("run")), "something was started");
    }

    @Test
    void checkWarnsAboutATemplateThatDoesNotStartQemuPaused() throws Exception {
        Path config =
                configWithTemplate(
                        """
                        "qemu":
                          "executable": [ "/usr/bin/qemu-system-x86_64" ]
                          "arguments": [ "-nodefaults" ]
                        """);
        Result r = checkWithTemplates(config);
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("does not start QEMU paused (-S)"), r.out());
    }

    @Test
    void unknownKeysAreWarnedAboutAlsoWithErrorsAndQuietKeepsWarnings() throws Exception {
        Path config = config("    nmae: x\n    firmware: bios\n");
        Result r = vmrunner("check", "-q", "-c", config.toString());
        assertEquals(2, r.code(), r.out());
        assertTrue(r.out().contains("WARN  line 5: vm.nmae: unknown key"), r.out());
        assertTrue(r.out().contains("vm.name: missing (required)"), r.out());

        Files.writeString(config, Files.readString(config).replace("nmae", "name"));
        Files.writeString(config, Files.readString(config) + "    bogus: 1\n    network: []\n");
        Result quiet = vmrunner("check", "-q", "-c", config.toString());
        assertEquals(0, quiet.code(), quiet.out());
        assertTrue(quiet.out().contains("vm.bogus"), "-q dropped the warning: " + quiet.out());
        assertFalse(quiet.out().contains("OK"), quiet.out());
    }

    @Test
    void jsonLogLinesParse() throws Exception {
        Path config = config("    name: \"a \\\"quoted\\\" vm\"\n    bogus: 1\n    network: []\n");
        Result r = vmrunner("check", "--log-format", "json", "-c", config.toString());
        assertEquals(0, r.code(), r.out());
        String line = r.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
        var o = com.google.gson.JsonParser.parseString(line).getAsJsonObject();
        assertEquals("WARN", o.get("level").getAsString(), line);
        assertEquals("a \"quoted\" vm", o.get("vm").getAsString(), line);
        assertEquals("runner", o.get("process").getAsString(), line);
        assertTrue(o.get("message").getAsString().contains("vm.bogus"), line);
        java.time.OffsetDateTime.parse(o.get("time").getAsString());
    }

    @Test
    void unreadableConfigFileIsNamed() throws Exception {
        Result r = vmrunner("-c", dir.resolve("absent.yaml").toString());
        assertEquals(2, r.code(), r.out());
        assertTrue(r.out().contains("absent.yaml"), r.out());
        assertEquals(1, r.out().strip().lines().count(), "more than one line: " + r.out());
    }

    @Test
    void unknownOptionIsAUsageError() throws Exception {
        Result r = vmrunner("--frobnicate");
        assertEquals(2, r.code(), r.out());
        assertTrue(r.out().contains("--frobnicate"), r.out());
    }
}
