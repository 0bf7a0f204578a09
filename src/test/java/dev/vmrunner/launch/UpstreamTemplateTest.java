package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upstream VM-Operator's own runner template, rendered with upstream's own sample configuration.
 * The files are read from a clone of github.com/mnlipp/VM-Operator, a work tree or bare repository
 * named by {@code -Dvmrunner.upstream.repo=DIR} or the environment variable {@code
 * VMRUNNER_UPSTREAM_REPO}; the test is skipped without one. vmrunner ships none of upstream's
 * files.
 */
class UpstreamTemplateTest {
    private static final String RUNNER = "org.jdrupes.vmoperator.runner.qemu/";
    private static final String REPO_PROPERTY = "vmrunner.upstream.repo";
    private static final String REPO_VARIABLE = "VMRUNNER_UPSTREAM_REPO";
    private static final Path REPO = repo();

    @TempDir Path dir;

    /** The clone that -Dvmrunner.upstream.repo or VMRUNNER_UPSTREAM_REPO names; null if none. */
    private static Path repo() {
        String named = System.getProperty(REPO_PROPERTY, System.getenv(REPO_VARIABLE));
        return named == null || named.isBlank() ? null : Path.of(named);
    }

    /** A file of the clone: from its work tree, else from HEAD of the repository. */
    private static String upstream(String path) throws IOException, InterruptedException {
        Path file = REPO.resolve(path);
        if (Files.isRegularFile(file)) {
            return Files.readString(file);
        }
        Process git =
                new ProcessBuilder("git", "--git-dir=" + gitDir(), "show", "HEAD:" + path)
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
        String text = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return git.waitFor() == 0 ? text : null;
    }

    private static Path gitDir() {
        return Files.isDirectory(REPO.resolve(".git")) ? REPO.resolve(".git") : REPO;
    }

    @Test
    void upstreamTemplateRendersWithUpstreamSampleConfig() throws Exception {
        assumeTrue(
                REPO != null,
                "no clone of github.com/mnlipp/VM-Operator named: set -D"
                        + REPO_PROPERTY
                        + "=DIR or "
                        + REPO_VARIABLE
                        + "=DIR");
        assumeTrue(Files.isDirectory(REPO), "no clone of mnlipp/VM-Operator at " + REPO);
        String template = upstream(RUNNER + "templates/Standard-VM-latest.ftl.yaml");
        String sample = upstream(RUNNER + "config-sample.yaml");
        assumeTrue(template != null && sample != null, "upstream's template or sample missing");
        Path templates = Files.createDirectories(dir.resolve("templates"));
        Files.writeString(templates.resolve("Standard-VM-latest.ftl.yaml"), template);
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, sample);
        RunnerConfig loaded =
                ConfigLoader.load(
                        config,
                        Map.of(
                                "HOME", dir.toString(),
                                "XDG_DATA_HOME", dir.resolve("data").toString(),
                                "XDG_RUNTIME_DIR", dir.resolve("run").toString()));
        Commands commands =
                Preparation.dryRun(loaded, templates, new Renderer(templates)).commands();
        List<String> qemu = commands.qemu().arguments();
        assertTrue(qemu.contains("-S"), qemu.toString());
        assertTrue(
                qemu.stream().anyMatch(a -> a.startsWith("virtio-vga,id=video0,max_outputs=1,")),
                "vm.display.outputs defaults to 1: " + qemu);
        assertTrue(qemu.contains("guest=test-vm,debug-threads=on"), qemu.toString());
    }

    @Test
    void aMissingValueNamesTheExpressionTheTemplateAndTheLine() throws Exception {
        Path templates = Files.createDirectories(dir.resolve("templates"));
        Files.writeString(
                templates.resolve("broken.ftl.yaml"),
                "\"qemu\":\n  \"executable\": \"/bin/true\"\n  \"arguments\":\n"
                        + "    - \"x=${ vm.display.nothing.deeper }\"\n");
        Path config = dir.resolve("config.yaml");
        Files.writeString(
                config,
                "\"/Runner\":\n  dataDir: "
                        + dir.resolve("d")
                        + "\n  runtimeDir: "
                        + dir.resolve("r")
                        + "\n"
                        + "  template: broken.ftl.yaml\n"
                        + "  vm:\n"
                        + "    name: t\n"
                        + "    firmware: bios\n");
        RunnerConfig loaded = ConfigLoader.load(config, Map.of("HOME", dir.toString()));
        LaunchException e =
                assertThrows(
                        LaunchException.class,
                        () -> Preparation.dryRun(loaded, templates, new Renderer(templates)));
        assertEquals(
                "Failed to render template "
                        + templates.resolve("broken.ftl.yaml")
                        + " at line 4, column 13: ${ vm.display.nothing } is null or missing (test"
                        + " optional values with ?? or give a default with !)",
                e.getMessage());
    }

    /** vmrunner's own template in upstream's model (src/test/resources/templates). */
    private List<String> renderUpstreamModel(String vmExtra, boolean passwordFile)
            throws Exception {
        Path templates = Files.createDirectories(dir.resolve("templates"));
        Files.copy(
                Path.of("src/test/resources/templates/upstream-model.ftl.yaml.in"),
                templates.resolve("upstream-model.ftl.yaml"),
                StandardCopyOption.REPLACE_EXISTING);
        Path config = dir.resolve("config.yaml");
        Files.writeString(
                config,
                "\"/Runner\":\n  dataDir: "
                        + dir.resolve("d")
                        + "\n  runtimeDir: "
                        + dir.resolve("r")
                        + "\n  template: upstream-model.ftl.yaml\n  vm:\n    name: t\n"
                        + "    firmware: bios\n    network: []\n"
                        + vmExtra);
        if (passwordFile) {
            Files.writeString(dir.resolve("display-password"), "pw\n");
        }
        RunnerConfig loaded = ConfigLoader.load(config, Map.of("HOME", dir.toString()));
        return Preparation.dryRun(loaded, templates, new Renderer(templates))
                .commands()
                .qemu()
                .arguments();
    }

    @Test
    void upstreamModelWithoutDisplayHasOneOutput() throws Exception {
        List<String> qemu = renderUpstreamModel("", false);
        assertTrue(
                qemu.contains("virtio-vga,id=video0,max_outputs=1,max_hostmem=268435456"),
                qemu.toString());
        assertTrue(qemu.contains("none"), qemu.toString());
    }

    @Test
    void upstreamModelTicketingFollowsThePasswordFile() throws Exception {
        String spice = "    display:\n      outputs: 2\n      spice:\n        port: 5931\n";
        List<String> open = renderUpstreamModel(spice, false);
        assertTrue(open.contains("port=5931,addr=127.0.0.1,disable-ticketing=on"), open.toString());
        assertTrue(open.stream().anyMatch(a -> a.contains("max_outputs=2,")), open.toString());
        List<String> locked = renderUpstreamModel(spice, true);
        assertTrue(
                locked.contains("port=5931,addr=127.0.0.1,disable-ticketing=off"),
                locked.toString());
    }
}
