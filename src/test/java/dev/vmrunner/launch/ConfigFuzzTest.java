package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.Firmware;
import dev.vmrunner.config.RunnerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * A bounded, seeded fuzz test of loading and rendering: random and mutated configurations full of
 * hostile values (commas, quotes, line breaks, control characters, deep nesting, aliases, huge
 * numbers, wrong types). Every case must end as a configuration or a ConfigException (exit 0 or 2),
 * rendering as commands or a LaunchException, nothing else; and no rendered QEMU argv may hold an
 * argument or option that came from a value, with the standard template and with an upstream-style
 * one that uses no qv(). {@code -Dfuzz.seed=N -Dfuzz.cases=N} repeat or widen it.
 */
class ConfigFuzzTest {

    static final long SEED = Long.getLong("fuzz.seed", 20261202L);
    static final int CASES = Integer.getInteger("fuzz.cases", 3000);
    static final Path TEMPLATES = Path.of("src/test/resources/templates");
    static final Path FILE = Path.of("/etc/vmrunner/fuzz.yaml");
    static final Map<String, String> ENV = Map.of("HOME", "/home/fuzz", "USER", "fuzz");

    /** What a value would add if it escaped its place: an argument, or options. */
    static final String FLAG = "-canary";

    static final Set<String> OPTION_KEYS = Set.of("canary", "evil");

    /** Strings that try to leave their place in the YAML output or in a QEMU option. */
    static final List<String> HOSTILE =
            List.of(
                    "a,format=qcow2,b.iso",
                    "/srv/x,canary=1",
                    ",canary=on",
                    "a,,canary=1",
                    "x,,,canary=2",
                    "=,=,canary=3",
                    "evil",
                    "a,evil",
                    "x\n- " + FLAG,
                    "\" ]\n    - \"" + FLAG,
                    "\", \"" + FLAG + "\", \"",
                    "'" + FLAG + "'",
                    "\\\", \"" + FLAG,
                    "a\u0000b,canary=1",
                    "bell\u0007,canary=1",
                    "cr\r\n" + FLAG,
                    "tab\t,canary=1",
                    "\u0085next\u2028line,canary=1",
                    "ünïcødé,canary=1",
                    "\uE000",
                    "\uE0000\uE001,canary=1\uE002",
                    "${ vm.name },canary=1",
                    "<#if true>,canary=1</#if>",
                    "#{ 1 },canary=1",
                    "- " + FLAG,
                    FLAG,
                    "/srv/a b/c,d.img",
                    "/" + "very,long,".repeat(300),
                    "");

    static final List<String> NUMBERS =
            List.of(
                    "0",
                    "1",
                    "-1",
                    "2",
                    "16",
                    "65535",
                    "65536",
                    "999999999999999999999999",
                    "9223372036854775807",
                    "-9223372036854775808",
                    "0x10",
                    "1e3",
                    "1.5",
                    ".inf",
                    "1G",
                    "512M",
                    "1.5G",
                    "9999999999T",
                    "-5G",
                    "0B",
                    "1KiB",
                    "3 G");

    static final Map<String, List<String>> VALID =
            Map.ofEntries(
                    Map.entry(
                            "firmware", List.of("bios", "uefi", "secure", "uefi-4m", "secure-4m")),
                    Map.entry("accelerator", List.of("kvm", "tcg", "none")),
                    Map.entry("cpuModel", List.of("host", "max", "host,+vmx", "Skylake,canary=1")),
                    Map.entry("useTpm", List.of("true", "false")),
                    Map.entry("bootMenu", List.of("true", "false")),
                    Map.entry("updateTemplate", List.of("true", "false")),
                    Map.entry("streamingVideo", List.of("true", "false")),
                    Map.entry("rtcBase", List.of("utc", "localtime", "2006-06-17")),
                    Map.entry("rtcClock", List.of("rt", "vm", "host")),
                    Map.entry("maximumRam", List.of("1G", "512M", "1.5G", "2147483648")),
                    Map.entry("currentRam", List.of("256M", "512M")),
                    Map.entry("maximumCpus", List.of("1", "2", "4")),
                    Map.entry("currentCpus", List.of("1", "2")),
                    Map.entry("sockets", List.of("0", "1", "2")),
                    Map.entry("powerdownTimeout", List.of("0", "900")),
                    Map.entry("resetCounter", List.of("0", "3")),
                    Map.entry("port", List.of("5900", "1")),
                    Map.entry("usbRedirects", List.of("0", "2")),
                    Map.entry("bootindex", List.of("0", "1")),
                    Map.entry("type", List.of("user", "tap", "raw", "ide-cd")),
                    Map.entry("device", List.of("virtio-net", "e1000")),
                    Map.entry("mac", List.of("52:54:00:12:34:56")),
                    Map.entry("net", List.of("10.0.2.0/24")));

    static final List<String> WORDS =
            List.of(
                    "bios",
                    "uefi",
                    "secure",
                    "uefi-4m",
                    "secure-4m",
                    "kvm",
                    "tcg",
                    "none",
                    "host",
                    "max",
                    "host,+vmx",
                    "Skylake,canary=1",
                    "utc",
                    "localtime",
                    "2006-06-17",
                    "rt",
                    "vm",
                    "tap",
                    "user",
                    "raw",
                    "ide-cd",
                    "virtio-net",
                    "e1000",
                    "52:54:00:12:34:56",
                    "10.0.2.0/24",
                    "br0",
                    "true",
                    "false",
                    "yes",
                    "null",
                    "~",
                    "fuzz");

    final Random random = new Random(SEED);
    final Yaml yaml;

    int accepted;
    int refused;
    final Map<String, int[]> rendering = new LinkedHashMap<>(); // template -> {ok, refused}
    final List<String> failures = new ArrayList<>();

    ConfigFuzzTest() {
        DumperOptions options = new DumperOptions();
        options.setAllowUnicode(true);
        yaml = new Yaml(options);
    }

    @Test
    void hostileConfigurationsLoadOrFailCleanlyAndNeverAddQemuArguments() throws Exception {
        List<TemplateSource> templates = templates();
        Renderer renderer = new Renderer(TEMPLATES);
        long start = System.nanoTime();
        long generating = 0;
        long loading = 0;
        for (int n = 0; n < CASES && failures.size() < 5; n++) {
            long t0 = System.nanoTime();
            String text = caseText();
            long t1 = System.nanoTime();
            RunnerConfig config = load(n, text);
            long t2 = System.nanoTime();
            generating += t1 - t0;
            loading += t2 - t1;
            if (config != null) {
                for (TemplateSource template : templates) {
                    render(n, text, config, template, renderer);
                }
            }
        }
        System.out.printf(
                "Config fuzz: generating %d ms, loading %d ms%n",
                generating / 1_000_000, loading / 1_000_000);
        long millis = (System.nanoTime() - start) / 1_000_000;
        long cpuMillis =
                java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime()
                        / 1_000_000;
        StringBuilder report =
                new StringBuilder(
                        String.format(
                                "Config fuzz, seed %d: %d cases in %d ms (%d ms CPU), %d accepted,"
                                        + " %d rejected (ConfigException)",
                                SEED, CASES, millis, cpuMillis, accepted, refused));
        rendering.forEach(
                (name, counts) ->
                        report.append(
                                String.format(
                                        "; %s: %d rendered, %d refused",
                                        name, counts[0], counts[1])));
        System.out.println(report);
        assertTrue(failures.isEmpty(), String.join("\n\n", failures));
        assertTrue(accepted > CASES / 10, "too few valid cases to test rendering: " + report);
    }

    private RunnerConfig load(int n, String text) {
        try {
            RunnerConfig config =
                    ConfigLoader.parseWithWarnings(text.getBytes(StandardCharsets.UTF_8), FILE, ENV)
                            .config();
            accepted++;
            return config;
        } catch (ConfigException e) {
            refused++;
            if (Boolean.getBoolean("fuzz.verbose")) {
                System.out.println("REFUSED " + e.problems().get(0));
            }
            if (e.getMessage().contains("Exception") || e.getMessage().isBlank()) {
                fail(n, text, "an unclear message: " + e.getMessage());
            }
        } catch (Throwable e) { // the point of the test: nothing else may come out
            fail(n, text, "loading threw " + e);
        }
        return null;
    }

    private void render(
            int n, String text, RunnerConfig config, TemplateSource template, Renderer renderer) {
        int[] counts = rendering.computeIfAbsent(template.name(), k -> new int[2]);
        try {
            Commands commands =
                    renderer.render(
                            template,
                            TemplateModel.of(
                                    config,
                                    "00000000-0000-0000-0000-000000000000",
                                    firmware(config)),
                            config.vm().useTpm(),
                            config.cloudInit() != null);
            counts[0]++;
            String problem = check(commands.qemu().arguments());
            if (problem != null) {
                fail(n, text, template.name() + ": " + problem);
            }
        } catch (LaunchException e) {
            counts[1]++;
            if (Boolean.getBoolean("fuzz.verbose")) {
                System.out.println("NOT RENDERED " + template.name() + ": " + e.getMessage());
            }
        } catch (Throwable e) {
            fail(n, text, template.name() + ": rendering threw " + e);
        }
    }

    /** What is wrong with the argv, or null: an argument or option that a value added. */
    static String check(List<String> arguments) {
        for (int i = 0; i < arguments.size(); i++) {
            String argument = arguments.get(i);
            String previous = i == 0 ? "" : arguments.get(i - 1);
            if (previous.equals("-cpu")) {
                continue; // vm.cpuModel is an option list by design (host,+vmx)
            }
            if (argument.equals(FLAG) || argument.startsWith(FLAG + "\n")) {
                return "a value added the argument " + argument + " in " + arguments;
            }
            if (previous.startsWith("-")) {
                for (Map.Entry<String, String> option :
                        EscapingTest.qemuOptions(argument).entrySet()) {
                    if (OPTION_KEYS.contains(option.getKey())
                            || option.getKey().equals("format")
                                    && option.getValue().equals("qcow2")) {
                        return "a value added the option "
                                + option.getKey()
                                + " to "
                                + previous
                                + " "
                                + argument;
                    }
                }
            }
        }
        return null;
    }

    private static FirmwareFiles firmware(RunnerConfig config) {
        if (config.vm().firmware() == Firmware.BIOS) {
            return null;
        }
        return new FirmwareFiles(
                Path.of("/usr/share/OVMF/OVMF_CODE.fd"),
                Path.of("/usr/share/OVMF/OVMF_VARS.fd"),
                TemplateModel.firmwareVarsPath(config));
    }

    private void fail(int n, String text, String what) {
        failures.add(
                "case "
                        + n
                        + " (seed "
                        + SEED
                        + "): "
                        + what
                        + "\n--- config ---\n"
                        + (text.length() > 2000 ? text.substring(0, 2000) + "..." : text));
    }

    private static List<TemplateSource> templates() throws IOException {
        String standard;
        try (InputStream in =
                Renderer.class.getResourceAsStream("/templates/" + TemplateSource.STANDARD)) {
            standard = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Path upstream = TEMPLATES.resolve("upstream-style.ftl.yaml");
        return List.of(
                new TemplateSource(TemplateSource.STANDARD, standard, "standard"),
                new TemplateSource(
                        "upstream-style.ftl.yaml", Files.readString(upstream), "upstream-style"));
    }

    // ---- generating cases ----

    /** An ordered map: Map.of's order changes from one JVM to the next, and so would the cases. */
    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    /** The share of values that are not valid for their key, in this case. */
    private double wildness;

    /** One case: a generated configuration, mutated as text now and then. */
    String caseText() {
        wildness = chance(3) ? 0.3 : 0.01;
        String text = yaml.dump(map("/Runner", runner()));
        switch (random.nextInt(12)) {
            case 0:
                return mutateBytes(text);
            case 1:
                return mutateLines(text);
            case 2:
                return withAliases(text);
            default:
                return text;
        }
    }

    private Map<String, Object> runner() {
        Map<String, Object> runner = new LinkedHashMap<>();
        if (chance(3)) {
            runner.put("dataDir", chance(2) ? "/var/lib/fuzz" : path());
        }
        if (chance(3)) {
            runner.put("runtimeDir", chance(2) ? "/run/fuzz/" + random.nextInt(99) : path());
        }
        if (chance(10)) {
            runner.put("resetCounter", value("resetCounter"));
        }
        if (chance(10)) {
            runner.put("updateTemplate", value("updateTemplate"));
        }
        if (chance(5)) {
            runner.put("cloudInit", cloudInit());
        }
        if (chance(20)) {
            runner.put("unknownKey" + random.nextInt(3), hostile());
        }
        if (!chance(50)) {
            runner.put("vm", vm());
        }
        return runner;
    }

    private Map<String, Object> vm() {
        Map<String, Object> vm = new LinkedHashMap<>();
        vm.put("name", chance(8) ? hostile() : "fuzz" + random.nextInt(1000));
        vm.put("firmware", value("firmware")); // UEFI would need OVMF
        vm.put("accelerator", value("accelerator")); // kvm would need /dev/kvm
        maybe(vm, "firmware");
        maybe(vm, "accelerator");
        maybe(vm, "cpuModel");
        maybe(vm, "useTpm");
        maybe(vm, "bootMenu");
        maybe(vm, "rtcBase");
        maybe(vm, "rtcClock");
        maybe(vm, "maximumRam");
        maybe(vm, "currentRam");
        maybe(vm, "maximumCpus");
        maybe(vm, "currentCpus");
        maybe(vm, "sockets");
        maybe(vm, "powerdownTimeout");
        if (chance(8)) {
            vm.put("uuid", chance(2) ? "12345678-1234-1234-1234-123456789abc" : hostile());
        }
        if (chance(2)) {
            vm.put("drives", list(this::drive));
        }
        if (chance(3)) {
            vm.put("network", list(this::nic));
        }
        if (chance(6)) {
            Map<String, Object> spice = new LinkedHashMap<>();
            maybe(spice, "port");
            if (chance(2)) {
                spice.put("ticket", hostile());
            }
            maybe(spice, "usbRedirects");
            vm.put("display", map("spice", spice));
        }
        return vm;
    }

    private Object drive() {
        Map<String, Object> drive = new LinkedHashMap<>();
        drive.put("type", chance(2) ? "ide-cd" : chance(2) ? "raw" : value("type"));
        String key = List.of("file", "device", "resource").get(random.nextInt(3));
        if (!chance(6)) {
            drive.put(key, path());
        }
        maybe(drive, "bootindex");
        return drive;
    }

    private Object nic() {
        Map<String, Object> nic = new LinkedHashMap<>();
        nic.put("type", chance(2) ? "user" : value("type"));
        maybe(nic, "device");
        maybe(nic, "mac");
        maybe(nic, "net");
        if (chance(4)) {
            nic.put("bridge", hostile());
        }
        return nic;
    }

    private Object cloudInit() {
        Map<String, Object> cloudInit = new LinkedHashMap<>();
        Map<String, Object> user = new LinkedHashMap<>();
        user.put("hostname", hostile());
        user.put("write_files", List.of(map("path", path(), "content", hostile())));
        cloudInit.put("userData", chance(8) ? hostile() : user);
        if (chance(2)) {
            cloudInit.put("metaData", map("instance-id", hostile()));
        }
        if (chance(8)) {
            cloudInit.put("networkConfig", nested(random.nextInt(40)));
        }
        return cloudInit;
    }

    private List<Object> list(java.util.function.Supplier<Object> item) {
        List<Object> list = new ArrayList<>();
        int size = random.nextInt(4);
        for (int i = 0; i < size; i++) {
            list.add(chance(10) ? hostile() : item.get());
        }
        return list;
    }

    /** A plausible path, or one of the hostile strings inside one. */
    private String path() {
        if (chance(3)) {
            return "/srv/fuzz/disk" + random.nextInt(10) + ".img";
        }
        return "/srv/" + hostile();
    }

    private void maybe(Map<String, Object> map, String key) {
        if (chance(2)) {
            map.put(key, value(key));
        }
    }

    /** Mostly valid for the key, sometimes hostile, of another key or of the wrong type. */
    private Object value(String key) {
        if (random.nextDouble() >= wildness) {
            return pick(VALID.get(key));
        }
        switch (random.nextInt(7)) {
            case 0:
                return hostile();
            case 1:
                return List.of(hostile(), value(key));
            case 2:
                return map("x", value(key));
            case 3:
                return nested(random.nextInt(50));
            case 4:
                return random.nextLong();
            case 5:
                return pick(NUMBERS);
            case 6:
                return pick(WORDS);
            default:
                return pick(VALID.get(key));
        }
    }

    private String pick(List<String> values) {
        return values.get(random.nextInt(values.size()));
    }

    private Object nested(int depth) {
        Object value = hostile();
        for (int i = 0; i < depth; i++) {
            value = chance(2) ? List.of(value) : map("k", value);
        }
        return value;
    }

    private String hostile() {
        String s = HOSTILE.get(random.nextInt(HOSTILE.size()));
        return chance(4) ? s + HOSTILE.get(random.nextInt(HOSTILE.size())) : s;
    }

    private boolean chance(int oneIn) {
        return random.nextInt(oneIn) == 0;
    }

    private String mutateBytes(String text) {
        StringBuilder s = new StringBuilder(text);
        int edits = 1 + random.nextInt(8);
        for (int i = 0; i < edits && s.length() > 0; i++) {
            int at = random.nextInt(s.length());
            switch (random.nextInt(4)) {
                case 0 -> s.deleteCharAt(at);
                case 1 ->
                        s.insert(at, "[{]}:,&*!|>'\"\\-#%@`\t\n\u0000".charAt(random.nextInt(22)));
                case 2 -> s.setLength(at);
                default -> s.insert(at, s.substring(at, Math.min(s.length(), at + 40)));
            }
        }
        return s.toString();
    }

    private String mutateLines(String text) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        int at = random.nextInt(lines.size());
        switch (random.nextInt(3)) {
            case 0 -> lines.add(at, lines.get(at)); // duplicate keys
            case 1 -> lines.remove(at);
            default -> lines.add(at, "  ".repeat(random.nextInt(60)) + "deep: " + "[".repeat(60));
        }
        return String.join("\n", lines);
    }

    private String withAliases(String text) {
        return switch (random.nextInt(4)) {
            case 0 -> text.replaceFirst("name: [^\n]*", "name: &a [*a]");
            case 1 -> text.replaceFirst("(vm:)", "$1 &v\n    again: *v");
            case 2 ->
                    "x: &x [lol,lol,lol]\ny: &y [*x,*x,*x,*x,*x,*x,*x,*x,*x,*x]\n"
                            + "z: &z [*y,*y,*y,*y,*y,*y,*y,*y,*y,*y,*y]\n"
                            + text.replaceFirst("name: [^\n]*", "name: *z");
            default ->
                    "common: &c {name: shared, maximumRam: 1G}\n"
                            + text.replaceFirst("vm:", "vm:\n    <<: *c");
        };
    }
}
