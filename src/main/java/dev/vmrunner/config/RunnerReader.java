package dev.vmrunner.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;

/** Reads the {@code /Runner} section. */
final class RunnerReader {
    private RunnerReader() {}

    /**
     * The configuration, or {@code null} if there are errors (they are in the problems).
     *
     * @param runner the {@code /Runner} mapping
     * @param configFile the file, for {@link RunnerConfig#configFile()} and as the base of relative
     *     directories; may be {@code null}
     */
    static RunnerConfig read(Section runner, Path configFile, Map<String, String> env) {
        Problems problems = runner.problems();
        Path base = Directories.baseOf(configFile);
        String dataDir = VmReader.checked(runner, "dataDir", Check.PATH);
        String runtimeDir = VmReader.checked(runner, "runtimeDir", Check.PATH);
        String template = VmReader.checked(runner, "template", Check.PATH);
        boolean updateTemplate = runner.bool("updateTemplate", false);
        boolean guestShutdownStops = runner.bool("guestShutdownStops", false);
        Long resetCounter = runner.integer("resetCounter", 0, Long.MAX_VALUE);
        CloudInit cloudInit = cloudInit(runner.section("cloudInit"));
        HttpAddress http = http(runner);
        Migration migration = migration(runner);
        Vm vm = null;
        Section vmSection = runner.section("vm");
        if (vmSection != null) {
            vm = VmReader.read(vmSection);
        } else if (runner.value("vm") == null) {
            problems.error(
                    runner.keyNode("vm"),
                    runner.pathOf("vm"),
                    "missing (required, with at least vm.name)");
        }
        // JGrapes: keys starting with "/" configure sub-components; not ours to judge.
        runner.ignoreKeysStartingWith("/");
        runner.warnUnused();
        if (problems.hasErrors() || vm == null) {
            return null;
        }
        Path runtime =
                runtimeDir != null
                        ? Directories.configured(runtimeDir, base)
                        : Directories.defaultRuntimeDir(env, vm.name());
        if (!Directories.fitsSockets(runtime)) {
            // Reported at runtimeDir, or at vm.name when the default is too long.
            Node at = runtimeDir != null ? runner.value("runtimeDir") : vmSection.value("name");
            problems.error(
                    at,
                    runtimeDir != null ? "runtimeDir" : "vm.name",
                    "the runtime directory "
                            + runtime
                            + " is too long for the Unix sockets in it (at most "
                            + Directories.MAX_RUNTIME_DIR_BYTES
                            + " bytes)");
            return null;
        }
        return new RunnerConfig(
                configFile == null ? null : configFile.toAbsolutePath().normalize(),
                dataDir != null
                        ? Directories.configured(dataDir, base)
                        : Directories.defaultDataDir(env, vm.name()),
                runtime,
                template,
                updateTemplate,
                cloudInit,
                guestShutdownStops,
                resetCounter,
                vm,
                http,
                migration);
    }

    /** The {@code incoming} key and the {@code migration} section (see {@link Migration}). */
    private static Migration migration(Section runner) {
        MigrationUri incoming = null;
        String text = runner.string("incoming");
        if (text != null) {
            try {
                incoming = MigrationUri.parse(text);
            } catch (IllegalArgumentException e) {
                runner.problems()
                        .error(runner.value("incoming"), runner.pathOf("incoming"), e.getMessage());
            }
        }
        Section section = runner.section("migration");
        if (section == null) {
            return Migration.DEFAULTS.incoming(incoming);
        }
        Long downtime = section.integer("maxDowntime", 1, 600_000);
        Long deadline = section.integer("deadline", 1, 86_400);
        Long bandwidth = section.size("maxBandwidth");
        section.warnUnused();
        return new Migration(
                incoming,
                downtime == null ? Migration.DEFAULT_MAX_DOWNTIME : Duration.ofMillis(downtime),
                deadline == null ? Migration.DEFAULT_DEADLINE : Duration.ofSeconds(deadline),
                bandwidth == null ? 0 : bandwidth);
    }

    /** The {@code http} key: {@code [ADDR:]PORT}, a bare number being a port. */
    private static HttpAddress http(Section runner) {
        String text = runner.string("http");
        if (text == null) {
            return null;
        }
        try {
            return HttpAddress.parse(text);
        } catch (IllegalArgumentException e) {
            runner.problems().error(runner.value("http"), runner.pathOf("http"), e.getMessage());
            return null;
        }
    }

    private static CloudInit cloudInit(Section section) {
        if (section == null) {
            return null;
        }
        Map<String, Map<String, Object>> parts = new LinkedHashMap<>();
        for (String key : new String[] {"metaData", "userData", "networkConfig"}) {
            Node value = section.value(key);
            if (value == null) {
                continue;
            }
            if (!(value instanceof MappingNode)) {
                section.problems()
                        .error(
                                value,
                                section.pathOf(key),
                                "expected a mapping, got " + Nodes.describe(value));
                continue;
            }
            @SuppressWarnings("unchecked") // a MappingNode converts to a Map or null
            Map<String, Object> map =
                    (Map<String, Object>)
                            PlainValues.convert(value, section.pathOf(key), section.problems());
            parts.put(key, map);
        }
        section.warnUnused();
        return new CloudInit(
                parts.get("metaData"), parts.get("userData"), parts.get("networkConfig"));
    }
}
