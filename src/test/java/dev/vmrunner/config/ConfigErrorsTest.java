package dev.vmrunner.config;

import static dev.vmrunner.config.ConfigLoaderTest.CONFIG;
import static dev.vmrunner.config.ConfigLoaderTest.ENV;
import static dev.vmrunner.config.ConfigLoaderTest.problem;
import static dev.vmrunner.config.ConfigLoaderTest.problems;
import static dev.vmrunner.config.ConfigLoaderTest.vm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Invalid configurations: every message names the line and the key. Lines: /Runner 1, vm 2, first
 * vm key 3.
 */
class ConfigErrorsTest {

    @Test
    void missingName() {
        assertEquals("line 2: vm.name: missing (required)", problem(vm("useTpm: true")));
        assertEquals("line 3: vm.name: missing (required)", problem(vm("name:")));
    }

    @Test
    void missingVm() {
        assertEquals(
                "line 1: vm: missing (required, with at least vm.name)",
                problem("\"/Runner\":\n  dataDir: /x\n"));
    }

    @Test
    void missingRunner() {
        assertEquals(
                "line 1: /Runner: missing: the runner's configuration must be below"
                        + " the top-level key /Runner",
                problem("Runner:\n  vm:\n    name: t\n"));
        assertEquals("line 1: /Runner: has no value (vm.name is required)", problem("/Runner:\n"));
        assertEquals(
                "The configuration is empty; expected the top-level key /Runner",
                problem("# nothing\n"));
        assertEquals(
                "line 1: expected a mapping with the top-level key /Runner, got a list",
                problem("- a\n- b\n"));
        assertEquals(
                "line 4: /Runner: duplicate key (first at line 1)",
                problem(vm("name: t") + "/Runner: {}\n"));
        assertEquals(
                "line 1: /Runner: expected a mapping (key: value lines), got 'x'",
                problem("/Runner: x\n"));
    }

    @Test
    void malformedYamlNamesLineAndColumn() {
        String message = problem(vm("name: t", "maximumRam: 1G", "  useTpm: true"));
        assertEquals(
                "Malformed YAML at line 5, column 13: mapping values are not allowed here",
                message);
        assertTrue(problem("/Runner: [a\n").startsWith("Malformed YAML at line 2, column 1: "));
    }

    @Test
    void malformedYamlKeepsTheCause() {
        ConfigException e =
                assertThrows(
                        ConfigException.class, () -> ConfigLoader.parse("a: 'x\n", CONFIG, ENV));
        assertTrue(e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException);
    }

    @Test
    void unknownFirmwareListsAllowedValues() {
        assertEquals(
                "line 4: vm.firmware: 'efi' is not allowed (allowed: bios, uefi, uefi-4m,"
                        + " secure, secure-4m)",
                problem(vm("name: t", "firmware: efi")));
    }

    @Test
    void unknownAcceleratorListsAllowedValues() {
        assertEquals(
                "line 4: vm.accelerator: 'hvf' is not allowed (allowed: kvm, tcg, none)",
                problem(vm("name: t", "accelerator: hvf")));
    }

    @Test
    void currentRamAboveMaximumRam() {
        assertEquals(
                "line 5: vm.currentRam: 2G is larger than vm.maximumRam (1G)",
                problem(vm("name: t", "maximumRam: 1G", "currentRam: 2G")));
        assertEquals(
                "line 4: vm.currentRam: 1.5G is larger than vm.maximumRam (1G, the default)",
                problem(vm("name: t", "currentRam: 1.5G")));
        // Echoed as written, not converted to a binary unit (1953125K).
        assertEquals(
                "line 5: vm.currentRam: 2GB is larger than vm.maximumRam (1GB)",
                problem(vm("name: t", "maximumRam: 1GB", "currentRam: 2GB")));
    }

    @Test
    void unknownKeysAreWarnedAboutAlsoWhenThereAreErrors() {
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () -> ConfigLoader.parse(vm("nmae: t", "firmware: bios"), CONFIG, ENV));
        assertTrue(e.getMessage().contains("vm.name: missing (required)"), e.getMessage());
        assertEquals(1, e.warnings().size(), "" + e.warnings());
        assertTrue(e.warnings().get(0).contains("vm.nmae"), e.warnings().get(0));
    }

    @Test
    void negativeSize() {
        assertEquals(
                "line 4: vm.maximumRam: -1G is not a positive size",
                problem(vm("name: t", "maximumRam: -1G")));
        assertEquals(
                "line 4: vm.maximumRam: -5 is not a positive size",
                problem(vm("name: t", "maximumRam: -5")));
    }

    @Test
    void invalidMaximumRamDoesNotAlsoCompareCurrentRam() {
        assertEquals(
                "line 4: vm.maximumRam: 'lots' is not a size (expected a number with an optional"
                    + " unit: B, K, M, G, T, P, E (binary), Ki/KiB … Ei/EiB (binary), kB, MB, GB,"
                    + " TB, PB, EB (decimal))",
                problem(vm("name: t", "maximumRam: lots", "currentRam: 4G")));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "powerdownTimeout: soon|line 4: vm.powerdownTimeout: expected an integer, got"
                        + " 'soon'",
                "powerdownTimeout: 1.5|line 4: vm.powerdownTimeout: expected an integer, got '1.5'",
                "powerdownTimeout: 0x10|line 4: vm.powerdownTimeout: expected an integer, got"
                        + " '0x10'",
                "powerdownTimeout: -1|line 4: vm.powerdownTimeout: must be at least 0, got -1",
                "maximumCpus: 0|line 4: vm.maximumCpus: must be at least 1, got 0",
                "maximumCpus: 99999999999|line 4: vm.maximumCpus: 99999999999 is too large",
                "sockets: -1|line 4: vm.sockets: must be at least 0, got -1",
                "useTpm: yes|line 4: vm.useTpm: expected true or false, got 'yes'",
                "useTpm: 1|line 4: vm.useTpm: expected true or false, got '1'",
                "bootMenu: [true]|line 4: vm.bootMenu: expected true or false, got a list",
                "cpuModel: {a: b}|line 4: vm.cpuModel: expected a string, got a mapping",
                "maximumRam: [1G]|line 4: vm.maximumRam: expected a size such as 1G, got a list",
                "network: tap|line 4: vm.network: expected a list (lines starting with -), got"
                        + " 'tap'",
                "display: 5|line 4: vm.display: expected a mapping (key: value lines), got '5'",
                "name: !local x|line 3: vm.name: expected a string, got a value tagged !local",
            })
    void wrongTypes(String line, String message) {
        assertEquals(message, problem(vm("name: t", line).replace("name: t\n    name:", "name:")));
    }

    @Test
    void globalTagsAreRejectedByTheParser() {
        assertEquals(
                "Malformed YAML at line 3, column 11: Global tag is not allowed:"
                        + " tag:yaml.org,2002:python/object:os.system",
                problem(vm("name: !!python/object:os.system x")));
    }

    @Test
    void wrongTypeOfName() {
        assertEquals("line 3: vm.name: expected a string, got a list", problem(vm("name: [a, b]")));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "mac: 52:54:00:12:34|'52:54:00:12:34' is not a MAC address (expected"
                        + " xx:xx:xx:xx:xx:xx, hex digits)",
                "mac: '52:54:00:12:34:56,id=x'|'52:54:00:12:34:56,id=x' is not a MAC address"
                        + " (expected xx:xx:xx:xx:xx:xx, hex digits)",
                "mac: '01:00:5e:00:00:01'|'01:00:5e:00:00:01' is a multicast address (the first"
                        + " byte must be even)",
            })
    void badMac(String line, String message) {
        assertEquals(
                "line 6: vm.network[0].mac: " + message,
                problem(vm("name: t", "network:", "- type: tap", "  " + line)));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "'br0,helper=/bin/sh'",
                "'a/b'",
                "'br 0'",
                "'br0=1'",
                "'averyveryverylongname'",
                "''",
                "'..'",
                "'eth0:1'",
                "\"br\\t0\""
            })
    void badBridge(String bridge) {
        String message = problem(vm("name: t", "network:", "- bridge: " + bridge));
        assertTrue(message.startsWith("line 5: vm.network[0].bridge: '"), message);
        assertTrue(message.contains("is not an interface name"), message);
    }

    @Test
    void badNetworkValues() {
        assertEquals(
                List.of(
                        "line 5: vm.network[0].type: 'bridge' is not allowed (allowed: tap, user,"
                                + " passt)",
                        "line 6: vm.network[0].device: 'virtio-net,x=y' is not a device model"
                                + " (letters, digits, - and _ only)",
                        "line 8: vm.network[1].net: '10.0.2.0/33' is not an IPv4 network in CIDR"
                                + " notation (e.g. 10.0.2.0/24)",
                        "line 10: vm.network[2].net: '256.0.2.0/24' is not an IPv4 network in CIDR"
                                + " notation (e.g. 10.0.2.0/24)",
                        "line 11: vm.network[3]: empty entry"),
                problems(
                        vm(
                                "name: t",
                                "network:",
                                "- type: bridge",
                                "  device: virtio-net,x=y",
                                "- type: user",
                                "  net: 10.0.2.0/33",
                                "- type: user",
                                "  net: 256.0.2.0/24",
                                "-")));
    }

    @Test
    void nameWithSlashOrDots() {
        assertEquals(
                "line 3: vm.name: must not contain '/' (it is used as a directory name)",
                problem(vm("name: a/b")));
        assertEquals(
                "line 3: vm.name: must not be '..' (it is used as a directory name)",
                problem(vm("name: ..")));
        assertEquals("line 3: vm.name: must not be empty", problem(vm("name: ''")));
        assertEquals(
                "line 3: vm.name: must not contain control characters",
                problem(vm("name: \"a\\u0000b\"")));
        assertEquals(
                "line 3: vm.name: is longer than 64 characters",
                problem(vm("name: " + "x".repeat(65))));
    }

    @Test
    void otherInjectionGuards() {
        assertEquals(
                List.of(
                        "line 2: vm.name: missing (required)",
                        "line 3: vm.uuid: 'not-a-uuid' is not a UUID (expected"
                                + " xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                        "line 4: vm.cpuModel: 'host -machine' is not a CPU model (letters, digits"
                                + " and _ . - + = , only)",
                        "line 5: vm.rtcBase: 'now' is not allowed (utc, localtime, or a date such"
                                + " as 2006-06-17 or 2006-06-17T16:01:21)",
                        "line 6: vm.rtcClock: 'wall' is not allowed (allowed: host, rt, vm)"),
                problems(
                        "\"/Runner\":\n"
                                + "  vm:\n"
                                + "    uuid: not-a-uuid\n"
                                + "    cpuModel: host -machine\n"
                                + "    rtcBase: now\n"
                                + "    rtcClock: wall\n"));
        assertEquals(
                "line 4: vm.rtcBase: '2006-02-30' is not a valid date",
                problem(vm("name: t", "rtcBase: 2006-02-30")));
    }

    @Test
    void badDrives() {
        assertEquals(
                List.of(
                        "line 5: vm.drives[0]: a raw drive needs exactly one of file, device or"
                                + " resource, got 2",
                        "line 7: vm.drives[1]: a raw drive needs exactly one of file, device or"
                                + " resource",
                        "line 8: vm.drives[1].bootindex: must be at least 0, got -1",
                        "line 10: vm.drives[2].device: not supported for type ide-cd (use file)",
                        "line 11: vm.drives[3].type: 'virtio' is not allowed (allowed: ide-cd,"
                                + " raw)",
                        "line 12: vm.drives[3].file: must not contain NUL or line breaks"),
                problems(
                        vm(
                                "name: t",
                                "drives:",
                                "- file: /a.img",
                                "  device: /dev/sda",
                                "- type: raw",
                                "  bootindex: -1",
                                "- type: ide-cd",
                                "  device: /dev/sr0",
                                "- type: virtio",
                                "  file: \"/a\\nb\"")));
    }

    @Test
    void badDisplay() {
        assertEquals(
                List.of(
                        "line 5: vm.display.outputs: must be between 1 and 16, got 17",
                        "line 7: vm.display.spice.port: must be between 1 and 65535, got 0",
                        "line 8: vm.display.spice.usbRedirects: must be at least 0, got -2",
                        "line 9: vm.display.spice.streamingVideo: expected true or false, got"
                                + " 'maybe'"),
                problems(
                        vm(
                                "name: t",
                                "display:",
                                "  outputs: 17",
                                "  spice:",
                                "    port: 0",
                                "    usbRedirects: -2",
                                "    streamingVideo: maybe")));
    }

    @Test
    void spiceInBothPlaces() {
        assertEquals(
                "line 4: spice: give either vm.spice or vm.display.spice, not both"
                        .replace("spice: give", "vm.spice: give"),
                problem(vm("name: t", "spice: {}", "display:", "  spice: {}")));
    }

    @Test
    void aliasGivenTwice() {
        assertEquals(
                "line 5: vm.cpuSockets: give either sockets or cpuSockets, not both",
                problem(vm("name: t", "sockets: 1", "cpuSockets: 1")));
    }

    @Test
    void duplicateKey() {
        assertEquals(
                "line 4: vm.name: duplicate key (first at line 3)",
                problem(vm("name: t", "name: u")));
    }

    @Test
    void badCloudInit() {
        assertEquals(
                List.of(
                        "line 3: cloudInit.userData: expected a mapping, got '#cloud-config'",
                        "line 4: cloudInit.metaData.a: duplicate key"),
                problems(
                        "\"/Runner\":\n  cloudInit:\n    userData: \"#cloud-config\"\n"
                                + "    metaData: {a: 1, a: 2}\n  vm:\n    name: t\n"));
    }

    @Test
    void badRunnerValues() {
        assertEquals(
                List.of(
                        "line 2: resetCounter: must be at least 0, got -1",
                        "line 3: updateTemplate: expected true or false, got 'no'",
                        "line 4: dataDir: must not be empty"),
                problems(
                        "\"/Runner\":\n  resetCounter: -1\n  updateTemplate: no\n  dataDir: ''\n"
                                + "  vm:\n    name: t\n"));
        assertEquals(
                "line 2: resetCounter: 99999999999999999999 is too large",
                problem(
                        "\"/Runner\":\n"
                                + "  resetCounter: 99999999999999999999\n"
                                + "  vm:\n"
                                + "    name: t\n"));
    }

    @Test
    void severalProblemsAreReportedTogetherInDocumentOrder() {
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                ConfigLoader.parse(
                                        vm(
                                                "firmware: efi",
                                                "maximumRam: 1G",
                                                "currentRam: 2G",
                                                "network:",
                                                "- mac: nope"),
                                        CONFIG,
                                        ENV));
        List<String> expected =
                List.of(
                        "line 2: vm.name: missing (required)",
                        "line 3: vm.firmware: 'efi' is not allowed (allowed: bios, uefi, uefi-4m,"
                                + " secure, secure-4m)",
                        "line 5: vm.currentRam: 2G is larger than vm.maximumRam (1G)",
                        "line 7: vm.network[0].mac: 'nope' is not a MAC address (expected"
                                + " xx:xx:xx:xx:xx:xx, hex digits)");
        assertEquals(expected, e.problems());
        assertEquals(String.join("\n", expected), e.getMessage());
    }

    @Test
    void unknownKeysAreWarningsWithLines() throws ConfigException {
        ConfigLoader.Loaded loaded =
                ConfigLoader.parseWithWarnings(
                        "\"/Runner\":\n"
                                + "  colour: blue\n"
                                + "  vm:\n"
                                + "    name: t\n"
                                + "    accelertor: kvm\n"
                                + "    network:\n"
                                + "    - type: user\n"
                                + "      bridge: br0\n"
                                + "      speed: 10\n"
                                + "  cloudInit:\n"
                                + "    vendorData: {}\n",
                        CONFIG,
                        ENV);
        assertEquals(
                List.of(
                        "line 2: colour: unknown key, ignored",
                        "line 5: vm.accelertor: unknown key, ignored (did you mean accelerator?)",
                        "line 8: vm.network[0].bridge: applies to type tap only, ignored",
                        "line 9: vm.network[0].speed: unknown key, ignored",
                        "line 11: cloudInit.vendorData: unknown key, ignored"),
                loaded.warnings());
    }

    @Test
    void aKeyInTheWrongSectionIsToldWhereItBelongs() throws ConfigException {
        ConfigLoader.Loaded loaded =
                ConfigLoader.parseWithWarnings(
                        "\"/Runner\":\n"
                                + "  maximumRam: 1G\n"
                                + "  vm:\n"
                                + "    name: t\n"
                                + "    template: mine.ftl.yaml\n",
                        CONFIG,
                        ENV);
        assertEquals(
                List.of(
                        "line 2: maximumRam: not a key of this section, ignored: it belongs in the"
                                + " vm section (vm.maximumRam)",
                        "line 5: vm.template: not a key of this section, ignored: it belongs"
                                + " directly below /Runner (template, not vm.template)"),
                loaded.warnings());
    }

    @Test
    void runtimeDirectoryMustLeaveRoomForSockets() {
        String longName = "n".repeat(64);
        assertEquals(
                "line 3: vm.name: the runtime directory /run/user/1000/a-rather-long-prefix"
                        + "/vmrunner/"
                        + longName
                        + " is too long for the Unix sockets in it (at most 84"
                        + " bytes)",
                assertThrows(
                                ConfigException.class,
                                () ->
                                        ConfigLoader.parse(
                                                vm("name: " + longName),
                                                CONFIG,
                                                java.util.Map.of(
                                                        "XDG_RUNTIME_DIR",
                                                        "/run/user/1000/a-rather-long-prefix")))
                        .getMessage());
        String longDir = "/run/" + "d".repeat(90);
        assertEquals(
                "line 2: runtimeDir: the runtime directory "
                        + longDir
                        + " is too long for"
                        + " the Unix sockets in it (at most 84 bytes)",
                problem("\"/Runner\":\n  runtimeDir: " + longDir + "\n  vm:\n    name: t\n"));
    }

    @Test
    void unreadableFile(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.yaml");
        ConfigException e =
                assertThrows(ConfigException.class, () -> ConfigLoader.load(missing, ENV));
        assertEquals(
                "Cannot read configuration file " + missing + ": no such file", e.getMessage());
        assertEquals(List.of(e.getMessage()), e.problems());

        Path binary = dir.resolve("binary.yaml");
        Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        assertEquals(
                "Cannot read configuration file " + binary + ": it is not UTF-8 text",
                assertThrows(ConfigException.class, () -> ConfigLoader.load(binary, ENV))
                        .getMessage());

        assertTrue(
                assertThrows(ConfigException.class, () -> ConfigLoader.load(dir, ENV))
                        .getMessage()
                        .startsWith("Cannot read configuration file " + dir + ": "));
    }
}
