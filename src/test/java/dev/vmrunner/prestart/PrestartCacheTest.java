package dev.vmrunner.prestart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.ProcessSpec;
import dev.vmrunner.launch.TemplateSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's cache: what the runner writes, read back by a real POSIX shell the way {@code
 * bin/vmrunner} reads it, so that the key matches exactly when nothing changed and hostile values
 * stay data.
 */
class PrestartCacheTest {

    @TempDir Path dir;

    private Path config;
    private Path template;
    private Path jar;
    private Path cache;
    private RunnerConfig parsed;
    private byte[] content;

    /** Values that a shell would run or split if they were not quoted. */
    static final List<String> HOSTILE =
            List.of(
                    "-S",
                    "plain",
                    "",
                    "it's",
                    "'",
                    "''\\''",
                    "$(touch /tmp/vmrunner-prestart-pwned)",
                    "`id`",
                    "a b\tc\nd",
                    "${HOME}",
                    "\\",
                    "*",
                    "-e",
                    "päth=ünïcode,🙂",
                    "; rm -rf /; '");

    @BeforeEach
    void setUp() throws Exception {
        config = dir.resolve("config.yaml");
        String yaml = PrestartedTest.yaml(dir);
        Files.writeString(config, yaml);
        content = yaml.getBytes(StandardCharsets.UTF_8);
        parsed = ConfigLoader.parse(yaml, config, Map.of());
        template = dir.resolve("templates/vm.ftl.yaml");
        Files.createDirectories(template.getParent());
        Files.writeString(template, "template text\n");
        jar = dir.resolve("lib/vmrunner.jar");
        Files.createDirectories(jar.getParent());
        Files.write(jar, new byte[] {1, 2, 3});
        cache = dir.resolve("cache/vmrunner/prestart/x");
    }

    private static Commands qemuOnly(List<String> arguments) {
        return new Commands(
                Optional.empty(),
                Optional.empty(),
                new ProcessSpec(
                        "qemu", Path.of("/usr/bin/qemu-system-x86_64"), arguments, Map.of()));
    }

    private void write(Commands commands) {
        write(
                commands,
                new TemplateSource("vm.ftl.yaml", "template text\n", template.toString()),
                Optional.of(jar.toString()));
    }

    private void write(Commands commands, TemplateSource source, Optional<String> runnerJar) {
        PrestartCache.write(
                Map.of(PrestartCache.DIR_ENV, cache.toString(), PrestartCache.KEY_ENV, "key|1"),
                parsed,
                content,
                commands,
                source,
                template.getParent(),
                runnerJar);
    }

    /** The launcher's check, as in bin/vmrunner: "match" when the key holds. */
    private String launcherCheck() throws Exception {
        String script =
                "c=$1 cfg=$2; . \"$c/vars.sh\"; [ \"$envkey\" = 'key|1' ] || { echo env; exit; };"
                    + " now=$( . \"$c/absent.sh\" && for f; do [ ! -e \"$f\" ] || exit 1; done && ."
                    + " \"$c/files.sh\" && exec sha256sum - \"$@\" < \"$cfg\" 2> /dev/null); ["
                    + " \"$now\" = \"$sums\" ] && echo match || echo changed";
        return sh(script, cache.toString(), config.toString()).strip();
    }

    static String sh(String script, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("sh", "-c", script, "sh"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    @Test
    void theKeyMatchesUntilTheConfigurationTemplateOrJarChanges() throws Exception {
        write(qemuOnly(List.of("-S")));
        assertEquals("match", launcherCheck());
        Files.writeString(config, Files.readString(config) + "# edited\n");
        assertEquals("changed", launcherCheck());
        Files.write(config, content);
        assertEquals("match", launcherCheck());
        Files.writeString(template, "template text, edited\n");
        assertEquals("changed", launcherCheck());
        Files.writeString(template, "template text\n");
        Files.write(jar, new byte[] {1, 2, 4}); // another build
        assertEquals("changed", launcherCheck());
    }

    @Test
    void aBuiltInTemplateIsShadowedByANewFileInTheTemplatesDirectory() throws Exception {
        write(
                qemuOnly(List.of("-S")),
                new TemplateSource(TemplateSource.STANDARD, "built in", "built-in x"),
                Optional.of(jar.toString()));
        assertEquals("match", launcherCheck());
        Files.writeString(template.resolveSibling(TemplateSource.STANDARD), "mine");
        assertEquals("changed", launcherCheck());
    }

    @Test
    void theContentReadIsKeyedNotTheFileWrittenSince() throws Exception {
        byte[] read = content;
        Files.writeString(config, "changed between the runner's read and the cache\n");
        content = read;
        write(qemuOnly(List.of("-S")));
        assertEquals("changed", launcherCheck());
    }

    @Test
    void hostileArgumentsComeBackAsTheSameWordsAndRunNothing() throws Exception {
        write(qemuOnly(HOSTILE));
        String out =
                sh(". \"$1/qemu.sh\"; for a; do printf '%s\\0' \"$a\"; done", cache.toString());
        List<String> back = new ArrayList<>(List.of(out.split("\0", -1)));
        back.remove(back.size() - 1);
        List<String> expected = new ArrayList<>(List.of("/usr/bin/qemu-system-x86_64"));
        expected.addAll(HOSTILE);
        assertEquals(expected, back);
        assertFalse(Files.exists(Path.of("/tmp/vmrunner-prestart-pwned")));
    }

    @Test
    void quotingIsOneWordAndRefusesNul() {
        assertEquals("'it'\\''s'", PrestartCache.quote("it's"));
        assertThrows(IllegalArgumentException.class, () -> PrestartCache.quote("a\0b"));
    }

    @Test
    void theCacheIsPrivate() throws Exception {
        write(qemuOnly(List.of("-S")));
        assertEquals(
                "rwx------",
                java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(cache)));
    }

    @Test
    void helpersOrAnUnpausedQemuAreNotCachedAndRemoveTheOldCache() throws Exception {
        write(qemuOnly(List.of("-S")));
        assertTrue(Files.exists(cache.resolve("vars.sh")));
        ProcessSpec swtpm =
                new ProcessSpec("swtpm", Path.of("/usr/bin/swtpm"), List.of(), Map.of());
        Commands withTpm =
                new Commands(Optional.of(swtpm), Optional.empty(), qemuOnly(List.of("-S")).qemu());
        assertTrue(PrestartCache.unsuitable(withTpm).isPresent());
        write(withTpm);
        assertFalse(Files.exists(cache.resolve("vars.sh")), "the launcher would start old argv");
        assertTrue(PrestartCache.unsuitable(qemuOnly(List.of("-m", "1G"))).isPresent());
        assertEquals(Optional.empty(), PrestartCache.unsuitable(qemuOnly(List.of("-S"))));
    }

    @Test
    void noJarNoCache() throws Exception {
        write(
                qemuOnly(List.of("-S")),
                new TemplateSource("vm.ftl.yaml", "template text\n", template.toString()),
                Optional.empty());
        assertFalse(Files.exists(cache.resolve("vars.sh")));
    }
}
