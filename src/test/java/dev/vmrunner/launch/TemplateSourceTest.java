package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemplateSourceTest {
    @TempDir Path dir;

    private List<String> warningsWhileLoading(boolean update) throws Exception {
        Path templates = Files.createDirectories(dir.resolve("templates"));
        Files.writeString(templates.resolve("t.ftl.yaml"), "new text\n");
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve(TemplateSource.SAVED), "old text\n");
        Path config = dir.resolve("config.yaml");
        Files.writeString(
                config,
                "\"/Runner\":\n  dataDir: "
                        + data
                        + "\n  runtimeDir: "
                        + dir.resolve("run")
                        + "\n  template: t.ftl.yaml\n"
                        + (update ? "  updateTemplate: true\n" : "")
                        + "  vm:\n    name: t\n");
        RunnerConfig loaded = ConfigLoader.load(config, Map.of("HOME", dir.toString()));
        Logger log = Logger.getLogger(TemplateSource.class.getName());
        List<String> warnings = new CopyOnWriteArrayList<>();
        Handler h =
                new Handler() {
                    @Override
                    public void publish(LogRecord r) {
                        warnings.add(r.getLevel() + " " + r.getMessage());
                    }

                    @Override
                    public void flush() {}

                    @Override
                    public void close() {}
                };
        log.addHandler(h);
        try {
            TemplateSource used = TemplateSource.forVm(loaded, templates);
            assertEquals(update ? "new text\n" : "old text\n", used.text());
        } finally {
            log.removeHandler(h);
        }
        return warnings;
    }

    @Test
    void savedCopyThatDiffersIsUsedWithAWarningSayingHowToRefresh() throws Exception {
        List<String> w = warningsWhileLoading(false);
        assertEquals(1, w.size(), w.toString());
        assertTrue(w.get(0).startsWith("WARNING Using the VM's saved template "), w.get(0));
        assertTrue(w.get(0).contains("\"updateTemplate\": true"), w.get(0));
        assertEquals(List.of(), warningsWhileLoading(true));
    }
}
