package dev.vmrunner.prestart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.ProcessSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks before a pre-started QEMU may run its guest, against a real process. */
class PrestartedTest {

    @TempDir Path dir;

    /** A VM's configuration with its directories below {@code dir}. */
    static String yaml(Path dir) {
        return "\"/Runner\":\n  dataDir: "
                + dir.resolve("data")
                + "\n  runtimeDir: "
                + dir.resolve("run")
                + "\n  vm:\n    name: pre\n    maximumRam: 1G\n";
    }

    private RunnerConfig config() throws Exception {
        String yaml = yaml(dir);
        Files.createDirectories(dir.resolve("data"));
        Files.createFile(dir.resolve("data/runner.lock"));
        return ConfigLoader.parse(yaml, dir.resolve("config.yaml"), Map.of());
    }

    private static Commands commands(String... arguments) {
        return new Commands(
                Optional.empty(),
                Optional.empty(),
                new ProcessSpec("qemu", Path.of("/bin/sh"), List.of(arguments), Map.of()));
    }

    @Test
    void theCommandLineMustBeTheRenderAndTheLauncherLockHeld() throws Exception {
        RunnerConfig config = config();
        // Stands in for QEMU: a process with a known argv ("-S" as QEMU's paused start).
        Process stand = new ProcessBuilder("/bin/sh", "-c", "sleep 30; :", "-S").start();
        try {
            Prestarted prestarted = new Prestarted(stand.pid());
            String other = prestarted.mismatch(config, commands("-c", "sleep 31; :", "-S"));
            assertNotNull(other);
            assertTrue(other.contains("argument 2 is \"sleep 30; :\""), other);
            String longer = prestarted.mismatch(config, commands("-c", "sleep 30; :", "-S", "x"));
            assertTrue(longer.contains("4 arguments, the render has 5"), longer);
            String lock = prestarted.mismatch(config, commands("-c", "sleep 30; :", "-S"));
            assertTrue(lock.contains("launcher's lock"), lock); // the test holds no flock
            String unpaused = prestarted.mismatch(config, commands("-c", "sleep 30; :"));
            assertTrue(unpaused.contains("-S"), unpaused);
            prestarted.end();
            assertTrue(prestarted.gone(Duration.ofSeconds(5)));
        } finally {
            stand.destroyForcibly();
        }
    }

    @Test
    void theEnvironmentNamesThePid() {
        assertEquals(
                Optional.of(new Prestarted(42)),
                Prestarted.fromEnvironment(Map.of(Prestarted.PID_ENV, "42")));
        assertEquals(Optional.empty(), Prestarted.fromEnvironment(Map.of(Prestarted.PID_ENV, "x")));
        assertEquals(Optional.empty(), Prestarted.fromEnvironment(Map.of()));
    }
}
