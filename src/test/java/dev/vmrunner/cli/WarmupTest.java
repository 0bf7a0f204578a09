package dev.vmrunner.cli;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WarmupTest {
    private static final String YAML =
            "\"/Runner\":\n  runtimeDir: /run/t\n  dataDir: /d\n  vm:\n    name: t\n";

    @Test
    void theWarmUpsNeverThrowEvenOnABrokenFile() throws Exception {
        RunnerConfig running = ConfigLoader.parse(YAML, Path.of("c.yaml"), Map.of());
        assertDoesNotThrow(Warmup::beforeStart);
        for (String content : new String[] {YAML, "\"/Runner\":\n  vm: [", "", "\0\0"}) {
            Runnable edit =
                    Warmup.configEdit(running, content.getBytes(StandardCharsets.UTF_8), Map.of());
            assertDoesNotThrow(edit::run, content);
        }
    }
}
