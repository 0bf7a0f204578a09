package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Configurations → the exact argv of every process, as {@code vmrunner render} prints it. The
 * expected files sit beside the configurations in src/test/resources/golden; after an intended
 * change, regenerate them with {@code -Dgolden.update=true} and review the diff.
 */
class GoldenRenderTest {

    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final Map<String, String> ENV = Map.of("HOME", "/home/tester", "USER", "tester");

    @ParameterizedTest
    @ValueSource(strings = {"minimal", "full", "cpus", "upstream-sample", "devices", "network"})
    void rendersExactArgv(String name) throws Exception {
        RunnerConfig config = ConfigLoader.load(GOLDEN.resolve(name + ".yaml"), ENV);
        Path noTemplatesDir = Path.of("/nonexistent/templates");
        String listing =
                Preparation.dryRun(config, noTemplatesDir, new Renderer(noTemplatesDir))
                        .commands()
                        .listing()
                        // passt runs as the runner's user, whoever runs the test
                        .replace("--runas\n" + RunAs.current() + "\n", "--runas\nUID:GID\n");

        Path expected = GOLDEN.resolve(name + ".argv");
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(expected, listing);
        }
        assertEquals(Files.readString(expected), listing);
    }
}
