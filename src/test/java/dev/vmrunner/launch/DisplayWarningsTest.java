package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DisplayWarningsTest {
    @TempDir Path dir;

    private List<String> warnings(String spice) throws Exception {
        Path config = dir.resolve("config.yaml");
        Files.writeString(
                config,
                "\"/Runner\":\n  dataDir: "
                        + dir.resolve("d")
                        + "\n  runtimeDir: "
                        + dir.resolve("r")
                        + "\n  vm:\n    name: t\n    firmware: bios\n    display:\n      spice:\n"
                        + spice);
        RunnerConfig loaded = ConfigLoader.load(config, Map.of("HOME", dir.toString()));
        Path none = dir.resolve("no-templates");
        Commands commands = Preparation.dryRun(loaded, none, new Renderer(none)).commands();
        return DisplayWarnings.of(loaded, commands);
    }

    @Test
    void openSpiceIsLoud() throws Exception {
        List<String> w = warnings("        port: 5930\n");
        assertEquals(1, w.size(), w.toString());
        assertTrue(w.get(0).startsWith("SECURITY: the SPICE display listens on all addresses"));
    }

    @Test
    void ticketInTheConfigurationIsNamedButNotOpen() throws Exception {
        List<String> w = warnings("        ticket: s3cret\n");
        assertEquals(1, w.size(), w.toString());
        assertTrue(w.get(0).startsWith("vm.display.spice.ticket puts the display password"));
        assertTrue(w.stream().noneMatch(s -> s.contains("s3cret")));
    }

    @Test
    void passwordFileBesideTheConfigurationIsQuiet() throws Exception {
        Files.writeString(dir.resolve("display-password"), "s3cret\n");
        assertEquals(List.of(), warnings("        port: 5930\n"));
    }
}
