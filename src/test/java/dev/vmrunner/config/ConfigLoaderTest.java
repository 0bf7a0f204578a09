package dev.vmrunner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
    static final Path CONFIG = Path.of("/etc/opt/vmrunner/config.yaml");
    static final Map<String, String> ENV = Map.of("HOME", "/home/tester", "USER", "tester");
    static final long GI = 1L << 30;

    static RunnerConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, CONFIG, ENV);
    }

    /** The problems reported for {@code yaml}, which must be invalid. */
    static List<String> problems(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml)).problems();
    }

    /** The single problem reported for {@code yaml}. */
    static String problem(String yaml) {
        List<String> problems = problems(yaml);
        assertEquals(1, problems.size(), problems.toString());
        return problems.get(0);
    }

    /** A configuration with {@code vmLines} (each indented by four spaces) in the vm section. */
    static String vm(String... vmLines) {
        StringBuilder yaml = new StringBuilder("\"/Runner\":\n  vm:\n");
        for (String line : vmLines) {
            yaml.append("    ").append(line).append('\n');
        }
        return yaml.toString();
    }

    static Path resource(String name) throws URISyntaxException {
        return Path.of(ConfigLoaderTest.class.getResource("/config/" + name).toURI());
    }

    @Test
    void minimalConfigGetsEveryDefault() throws ConfigException {
        ConfigLoader.Loaded loaded =
                ConfigLoader.parseWithWarnings(
                        vm("name: test-vm"),
                        CONFIG,
                        Map.of("XDG_DATA_HOME", "/xdg/data", "XDG_RUNTIME_DIR", "/run/user/1000"));
        assertEquals(List.of(), loaded.warnings());
        RunnerConfig config = loaded.config();
        assertEquals(CONFIG, config.configFile());
        assertEquals(Path.of("/xdg/data/vmrunner/test-vm"), config.dataDir());
        assertEquals(Path.of("/run/user/1000/vmrunner/test-vm"), config.runtimeDir());
        assertNull(config.template());
        assertFalse(config.updateTemplate());
        assertNull(config.cloudInit());
        assertFalse(config.guestShutdownStops());
        assertNull(config.resetCounter());
        Vm vm = config.vm();
        assertEquals("test-vm", vm.name());
        assertNull(vm.uuid());
        assertFalse(vm.useTpm());
        assertEquals(Firmware.UEFI, vm.firmware());
        assertFalse(vm.bootMenu());
        assertEquals(900, vm.powerdownTimeout());
        assertEquals(GI, vm.maximumRam());
        assertEquals(GI, vm.currentRam());
        assertEquals("host", vm.cpuModel());
        assertEquals("kvm", vm.accelerator());
        assertEquals(1, vm.maximumCpus());
        assertEquals(1, vm.currentCpus());
        assertEquals(0, vm.sockets());
        assertEquals(0, vm.diesPerSocket());
        assertEquals(0, vm.coresPerSocket());
        assertEquals(0, vm.threadsPerCore());
        assertEquals("utc", vm.rtcBase());
        assertEquals("rt", vm.rtcClock());
        assertEquals(List.of(new Network("tap", null, "virtio-net", null, null)), vm.network());
        assertEquals(List.of(), vm.drives());
        assertNull(vm.display());
    }

    @Test
    void fullConfigSetsEveryKey() throws Exception {
        Path file = resource("full.yaml");
        ConfigLoader.Loaded loaded = ConfigLoader.loadWithWarnings(file, ENV);
        assertEquals(List.of(), loaded.warnings());
        RunnerConfig config = loaded.config();
        assertEquals(file, config.configFile());
        assertEquals(Path.of("/srv/vms/data"), config.dataDir());
        assertEquals(Path.of("/run/vms/full-vm"), config.runtimeDir());
        assertEquals("Custom-VM.ftl.yaml", config.template());
        assertTrue(config.updateTemplate());
        assertTrue(config.guestShutdownStops());
        assertEquals(7L, config.resetCounter());

        Vm vm = config.vm();
        assertEquals("full-vm", vm.name());
        assertEquals("0f0e0d0c-0b0a-0908-0706-050403020100", vm.uuid());
        assertTrue(vm.useTpm());
        assertEquals(Firmware.SECURE_4M, vm.firmware());
        assertTrue(vm.bootMenu());
        assertEquals(120, vm.powerdownTimeout());
        assertEquals(8 * GI, vm.maximumRam());
        assertEquals(GI + GI / 2, vm.currentRam());
        assertEquals("host,+vmx,-svm", vm.cpuModel());
        assertEquals("tcg", vm.accelerator());
        assertEquals(8, vm.maximumCpus());
        assertEquals(4, vm.currentCpus());
        assertEquals(2, vm.sockets());
        assertEquals(1, vm.diesPerSocket());
        assertEquals(2, vm.coresPerSocket());
        assertEquals(2, vm.threadsPerCore());
        assertEquals("2006-06-17T16:01:21", vm.rtcBase());
        assertEquals("vm", vm.rtcClock());
        assertEquals(
                List.of(
                        new Network("tap", "br-lan", "e1000", "02:00:00:aa:bb:cc", null),
                        new Network("user", null, "virtio-net", null, "10.0.2.0/24")),
                vm.network());
        assertEquals(
                List.of(
                        new Drive("ide-cd", "/isos/debian,netinst.iso", null, null, 2),
                        new Drive("raw", "/images/full-vm.img", null, null, 0),
                        new Drive("raw", null, "/dev/sdb", null, null)),
                vm.drives());
        assertEquals(new Display(2, new Spice(5999, "s3cr3t", "all", 4)), vm.display());

        CloudInit cloudInit = config.cloudInit();
        assertEquals(
                Map.of("instance-id", "full-1", "local-hostname", "full"), cloudInit.metaData());
        Map<String, Object> userData = cloudInit.userData();
        assertEquals(
                List.of("users", "packages", "write_files", "answer", "ratio", "nothing"),
                List.copyOf(userData.keySet()));
        assertEquals(
                List.of(
                        Map.of(
                                "name",
                                "admin",
                                "sudo",
                                "ALL=(ALL) NOPASSWD:ALL",
                                "lock_passwd",
                                true)),
                userData.get("users"));
        assertEquals(List.of("qemu-guest-agent"), userData.get("packages"));
        assertEquals(
                List.of(Map.of("path", "/etc/motd", "permissions", "0644", "content", "hello")),
                userData.get("write_files"));
        assertEquals(42L, userData.get("answer"));
        assertEquals(1.5, userData.get("ratio"));
        assertTrue(userData.containsKey("nothing"));
        assertNull(userData.get("nothing"));
        assertEquals(
                Map.of("version", 2L, "ethernets", Map.of("eth0", Map.of("dhcp4", true))),
                cloudInit.networkConfig());
    }

    @Test
    void upstreamSampleStyleLoadsUnchanged() throws Exception {
        ConfigLoader.Loaded loaded =
                ConfigLoader.loadWithWarnings(resource("upstream-style.yaml"), ENV);
        assertEquals(List.of(), loaded.warnings());
        Vm vm = loaded.config().vm();
        assertEquals("test-vm", vm.name());
        assertEquals(4 * GI, vm.maximumRam());
        assertEquals(2 * GI, vm.currentRam());
        assertEquals(4, vm.maximumCpus());
        assertEquals(2, vm.currentCpus());
        assertEquals(1, vm.sockets());
        assertEquals(4, vm.coresPerSocket());
        assertEquals(Firmware.UEFI, vm.firmware());
        assertEquals(List.of(new Network("tap", "br0", "virtio-net", null, null)), vm.network());
        assertEquals(
                List.of(
                        new Drive("ide-cd", "/var/lib/isos/installer.iso", null, null, 0),
                        new Drive("raw", null, "/dev/vg0/test-vm-disk", null, 1)),
                vm.drives());
        // Older upstream layout: spice directly below vm.
        assertEquals(new Display(null, new Spice(5910, null, null, 2)), vm.display());
        assertEquals(
                Path.of("/home/tester/.local/share/vmrunner/test-vm"), loaded.config().dataDir());
        assertEquals(Path.of("/tmp/tester/vmrunner/test-vm"), loaded.config().runtimeDir());
    }

    @Test
    void operatorGeneratedConfigLoads() throws Exception {
        ConfigLoader.Loaded loaded =
                ConfigLoader.loadWithWarnings(resource("operator-style.yaml"), ENV);
        assertEquals(List.of(), loaded.warnings());
        RunnerConfig config = loaded.config();
        assertEquals(Path.of("/var/local/vm-data"), config.dataDir());
        assertEquals(3L, config.resetCounter());
        assertEquals(
                Map.of("instance-id", "v1700000000", "local-hostname", "test-vm"),
                config.cloudInit().metaData());
        assertEquals(Map.of(), config.cloudInit().userData());
        assertNull(config.cloudInit().networkConfig());
        Vm vm = config.vm();
        assertEquals("c3f2a4e0-8d1b-4c6a-9e2f-0a1b2c3d4e5f", vm.uuid());
        assertEquals(Firmware.UEFI_4M, vm.firmware());
        assertEquals(8 * GI, vm.maximumRam());
        assertEquals(4 * GI, vm.currentRam());
        assertEquals(4, vm.coresPerSocket()); // given as coresPerDie
        assertEquals(
                List.of(new Network("tap", "br0", "virtio-net", "52:54:00:12:34:56", null)),
                vm.network());
        // The resource does not exist as a regular file here, so it is a device.
        assertEquals(
                List.of(
                        new Drive(
                                "raw",
                                null,
                                "/dev/test-vm-system-disk",
                                "/dev/test-vm-system-disk",
                                1),
                        new Drive("ide-cd", null, null, null, null)),
                vm.drives());
        assertEquals(new Display(null, new Spice(5901, "secret", "filter", 2)), vm.display());
    }

    @Test
    void rawResourceThatIsARegularFileBecomesFile() throws Exception {
        String image = resource("full.yaml").toString();
        Vm vm = parse(vm("name: t", "drives:", "- type: raw", "  resource: " + image)).vm();
        assertEquals(List.of(new Drive("raw", image, null, image, null)), vm.drives());
    }

    @Test
    void otherTopLevelKeysAreIgnored() throws ConfigException {
        ConfigLoader.Loaded loaded =
                ConfigLoader.parseWithWarnings(
                        "/Other:\n  x: 1\n" + vm("name: t") + "/Runner/Sub: {}\n/Other: {}\n",
                        CONFIG,
                        ENV);
        assertEquals(List.of(), loaded.warnings());
    }

    @Test
    void quotedNumbersAndBooleansAreAccepted() throws ConfigException {
        Vm vm =
                parse(
                                vm(
                                        "name: t",
                                        "powerdownTimeout: \"60\"",
                                        "useTpm: \"true\"",
                                        "maximumCpus: '2'",
                                        "bootMenu: True"))
                        .vm();
        assertEquals(60, vm.powerdownTimeout());
        assertTrue(vm.useTpm());
        assertEquals(2, vm.maximumCpus());
        assertTrue(vm.bootMenu());
    }

    @Test
    void numericNameIsAString() throws ConfigException {
        assertEquals("1234", parse(vm("name: 1234")).vm().name());
    }

    @Test
    void currentCpusAboveMaximumRaisesMaximum() throws ConfigException {
        Vm vm = parse(vm("name: t", "maximumCpus: 2", "currentCpus: 6")).vm();
        assertEquals(6, vm.maximumCpus());
        assertEquals(6, vm.currentCpus());
    }

    @Test
    void currentRamDefaultsToMaximumRam() throws ConfigException {
        Vm vm = parse(vm("name: t", "maximumRam: 4294967296")).vm();
        assertEquals(4 * GI, vm.maximumRam());
        assertEquals(4 * GI, vm.currentRam());
    }

    @Test
    void emptyNetworkListMeansNoInterfaces() throws ConfigException {
        assertEquals(List.of(), parse(vm("name: t", "network: []")).vm().network());
        // As the upstream operator writes it for a VM without networks:
        assertEquals(List.of(), parse(vm("name: t", "network:")).vm().network());
    }

    @Test
    void userNetworkDefaults() throws ConfigException {
        assertEquals(
                List.of(new Network("user", null, "virtio-net", null, null)),
                parse(vm("name: t", "network:", "- type: user")).vm().network());
    }

    @Test
    void emptyDisplayHasNoSpice() throws ConfigException {
        assertNull(parse(vm("name: t", "display:")).vm().display());
        assertEquals(new Display(null, null), parse(vm("name: t", "display: {}")).vm().display());
    }

    @Test
    void spiceDefaults() throws ConfigException {
        assertEquals(
                new Display(null, new Spice(5900, null, null, 2)),
                parse(vm("name: t", "display:", "  spice: {}")).vm().display());
    }

    @Test
    void mergeKeysAreResolved() throws ConfigException {
        Vm vm =
                parse(
                                "base: &base\n"
                                        + "  maximumRam: 2G\n"
                                        + "  useTpm: true\n"
                                        + "\"/Runner\":\n"
                                        + "  vm:\n"
                                        + "    <<: *base\n"
                                        + "    name: t\n"
                                        + "    useTpm: false\n")
                        .vm();
        assertEquals(2 * GI, vm.maximumRam());
        assertFalse(vm.useTpm());
    }

    @Test
    void recordsAreImmutable() throws Exception {
        RunnerConfig config = ConfigLoader.load(resource("full.yaml"), ENV);
        assertThrows(
                UnsupportedOperationException.class,
                () -> config.vm().network().add(Network.defaultTap()));
        assertThrows(UnsupportedOperationException.class, () -> config.vm().drives().clear());
        assertThrows(
                UnsupportedOperationException.class,
                () -> config.cloudInit().userData().put("x", 1));
        @SuppressWarnings("unchecked") // as loaded from full.yaml
        List<Map<String, Object>> users =
                (List<Map<String, Object>>) config.cloudInit().userData().get("users");
        assertThrows(UnsupportedOperationException.class, () -> users.get(0).put("x", 1));
        assertThrows(UnsupportedOperationException.class, () -> users.add(Map.of()));
    }

    @Test
    void cloudInitRecordCopiesMutableInput() {
        java.util.Map<String, Object> meta = new java.util.LinkedHashMap<>();
        meta.put("instance-id", "a");
        CloudInit cloudInit = new CloudInit(meta, null, null);
        meta.put("instance-id", "b");
        assertEquals("a", cloudInit.metaData().get("instance-id"));
        assertNull(cloudInit.userData());
    }
}
