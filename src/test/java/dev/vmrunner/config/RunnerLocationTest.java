package dev.vmrunner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the runner of a rejected file answers: read leniently, else through the runner's link. */
class RunnerLocationTest {

    @TempDir Path dir;

    private Map<String, String> env() {
        return Map.of("XDG_RUNTIME_DIR", dir.resolve("run").toString());
    }

    private static byte[] bytes(String yaml) {
        return yaml.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aFileThatParsesButDoesNotValidateIsReadLeniently() throws Exception {
        String invalid =
                "\"/Runner\":\n  runtimeDir: run/here\n  vm:\n    name: web1\n"
                        + "    currentRam: 4G\n    maximumRam: 1G\n";
        Path file = dir.resolve("web1.yaml");
        RunnerLocation at = RunnerLocation.lenient(bytes(invalid), file, env());
        assertEquals(new RunnerLocation("web1", dir.resolve("run/here")), at);

        RunnerLocation byDefault =
                RunnerLocation.lenient(
                        bytes("\"/Runner\":\n  vm:\n    name: web1\n    currentCpus: x\n"),
                        file,
                        env());
        assertEquals(dir.resolve("run/vmrunner/web1"), byDefault.runtimeDir());
    }

    @Test
    void aFileThatDoesNotParseIsFoundThroughTheRunnersLink() throws Exception {
        Path file = dir.resolve("web1.yaml");
        Path runtime = dir.resolve("custom");
        String valid = "\"/Runner\":\n  runtimeDir: " + runtime + "\n  vm:\n    name: web1\n";
        Files.writeString(file, valid);
        RunnerConfig config = ConfigLoader.load(file, env());
        assertNull(RunnerLocation.lenient(bytes("\"/Runner\": [\n"), file, env()));
        RunnerLocation.leaveLink(config, env());
        RunnerLocation.leaveLink(config, env()); // a later runner replaces the link
        RunnerLocation found = RunnerLocation.lenient(bytes("\"/Runner\": [\n"), file, env());
        assertEquals(runtime, found.runtimeDir());
        // another file has no link
        assertNull(RunnerLocation.lenient(bytes(":"), dir.resolve("other.yaml"), env()));
    }

    @Test
    void anInvalidNameLocatesNothing() {
        assertNull(
                RunnerLocation.lenient(
                        bytes("\"/Runner\":\n  vm:\n    name: a/b\n"), dir.resolve("x"), env()));
    }
}
