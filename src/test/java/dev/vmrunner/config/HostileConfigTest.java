package dev.vmrunner.config;

import static dev.vmrunner.config.ConfigLoaderTest.ENV;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Files written to hurt the loader: each gets one clear message, quickly, and nothing else. */
class HostileConfigTest {

    static final Duration FAST = Duration.ofSeconds(2);

    @TempDir Path dir;

    /** Loads the file; it must be refused with one message containing {@code expected}. */
    String refused(Path file, String expected) {
        long start = System.nanoTime();
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, ENV));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(FAST) < 0, "took " + took + ": " + e.getMessage());
        assertEquals(1, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        return e.getMessage();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "DEEP_9MB        | more than the limit of 1 MiB",
                "HUGE_60MB       | the file is 62914500 bytes, more than the limit of 1 MiB",
                "ALIAS_BOMB      | line 9: more than 20 aliases of lists or mappings",
                "ALIAS_EXPANSION | the aliases expand the configuration to more than 20000 values",
                "RECURSIVE_ALIAS | line 3: recursive alias *a",
                "GARBAGE         | it is not UTF-8 text",
                "EMPTY           | The configuration is empty",
                "DEEP_FLOW       | line 1: nested more than 32 levels deep",
                "MANY_VALUES     | line 1: the configuration has more than 20000 values",
            })
    void hostileFileIsOneClearMessage(HostileFiles hostile, String expected) throws Exception {
        Path file = hostile.write(dir.resolve("config.yaml"));
        refused(file, expected);
    }

    @Test
    void directoryIsNamed() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("config.yaml"));
        assertEquals(
                "Cannot read configuration file " + sub + ": it is a directory",
                refused(sub, "directory"));
    }

    @Test
    void fifoNeverBlocks() throws Exception {
        Path fifo = dir.resolve("config.yaml");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertTrue(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0);
        assertEquals(
                "Cannot read configuration file "
                        + fifo
                        + ": it is not a regular file (a FIFO, socket or device)",
                refused(fifo, "FIFO"));
    }

    @Test
    void aFileOfExactlyTheLimitIsRead() throws Exception {
        String head = "\"/Runner\":\n  vm:\n    name: big\n# ";
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, head + "x".repeat(ConfigFile.MAX_BYTES - head.length() - 1) + "\n");
        assertEquals(ConfigFile.MAX_BYTES, Files.size(file));
        assertEquals("big", ConfigLoader.load(file, ENV).vm().name());
        Files.writeString(file, "\n", java.nio.file.StandardOpenOption.APPEND);
        refused(file, "the file is 1048577 bytes, more than the limit of 1 MiB");
    }

    @Test
    void contentPassedInIsBoundedToo() {
        byte[] large = new byte[ConfigFile.MAX_BYTES + 1];
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () -> ConfigLoader.parseWithWarnings(large, dir.resolve("c.yaml"), ENV));
        assertTrue(e.getMessage().contains("more than the limit of 1 MiB"), e.getMessage());
    }

    @Test
    void recursiveMergeKeyIsRefused() {
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                ConfigLoader.parse(
                                        "\"/Runner\": &r\n  <<: *r\n  vm:\n    name: t\n",
                                        null,
                                        ENV));
        assertEquals(
                "line 2: recursive alias *r: it refers to a list or mapping that contains it",
                e.getMessage());
    }

    @Test
    void aliasesWithinTheBoundsStillWork() throws Exception {
        RunnerConfig config =
                ConfigLoader.parse(
                        "common: &c\n  name: shared\n\"/Runner\":\n  vm:\n    <<: *c\n", null, ENV);
        assertEquals("shared", config.vm().name());
    }

    @Test
    void nestingUpToTheLimitIsFine() throws Exception {
        // The top level, /Runner, cloudInit, userData: 4 levels; 28 more reach the limit of 32.
        String deep = "[".repeat(28) + "]".repeat(28);
        ConfigLoader.parse(
                "\"/Runner\":\n  vm:\n    name: t\n  cloudInit:\n    userData:\n      x: "
                        + deep
                        + "\n",
                null,
                ENV);
        String tooDeep = "[".repeat(29) + "]".repeat(29);
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                ConfigLoader.parse(
                                        "\"/Runner\":\n  vm:\n    name: t\n  cloudInit:\n"
                                                + "    userData:\n      x: "
                                                + tooDeep
                                                + "\n",
                                        null,
                                        ENV));
        assertEquals("line 6: nested more than 32 levels deep", e.getMessage());
    }

    @Test
    void manyUnknownKeysGiveABoundedNumberOfWarnings() throws Exception {
        StringBuilder yaml = new StringBuilder("\"/Runner\":\n  vm:\n    name: t\n");
        for (int i = 0; i < 500; i++) {
            yaml.append("  unknown").append(i).append(": 1\n");
        }
        ConfigLoader.Loaded loaded = ConfigLoader.parseWithWarnings(yaml.toString(), null, ENV);
        assertEquals(Problems.MAX_SHOWN + 1, loaded.warnings().size());
        assertEquals("... and 450 more like these", loaded.warnings().get(Problems.MAX_SHOWN));
    }

    @Test
    void aHugeValueIsShortenedInItsMessage() {
        String huge = "x".repeat(500_000);
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () ->
                                ConfigLoader.parse(
                                        "\"/Runner\":\n  vm:\n    name: t\n    uuid: "
                                                + huge
                                                + "\n",
                                        null,
                                        ENV));
        assertTrue(e.getMessage().startsWith("line 4: vm.uuid: 'xxx"), e.getMessage());
        assertTrue(e.getMessage().endsWith("... (500081 characters)"), e.getMessage());
        assertTrue(e.getMessage().length() < 500, e.getMessage());
    }
}
