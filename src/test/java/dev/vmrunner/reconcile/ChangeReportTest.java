package dev.vmrunner.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.reconcile.ChangeReport.Change;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ChangeReportTest {

    static RunnerConfig config(String vm) throws Exception {
        return ConfigLoader.parse(
                "\"/Runner\":\n  runtimeDir: /run/t\n  dataDir: /d\n  vm:\n" + "    name: t\n" + vm,
                Path.of("c.yaml"),
                Map.of());
    }

    @Test
    void liveKeysAndRestartKeysAreTold() throws Exception {
        RunnerConfig before =
                config(
                        """
                            maximumRam: 1G
                            currentRam: 1G
                            currentCpus: 1
                            maximumCpus: 2
                            drives:
                              - type: ide-cd
                                file: /a.iso
                              - type: raw
                                file: /disk.img
                        """);
        RunnerConfig after =
                config(
                        """
                            maximumRam: 2G
                            currentRam: 512M
                            currentCpus: 2
                            maximumCpus: 2
                            drives:
                              - type: ide-cd
                                file: /b.iso
                              - type: raw
                                file: /other.img
                        """);
        assertEquals(
                List.of(
                        new Change("vm.maximumRam", "1G", "2G", null),
                        new Change("vm.currentRam", "1G", "512M", LiveKey.CURRENT_RAM),
                        new Change("vm.currentCpus", "1", "2", LiveKey.CURRENT_CPUS),
                        new Change("vm.drives[0].file", "/a.iso", "/b.iso", LiveKey.CD_MEDIUM),
                        new Change("vm.drives[1].file", "/disk.img", "/other.img", null)),
                ChangeReport.between(before, after));
    }

    @Test
    void identicalConfigurationsHaveNoChanges() throws Exception {
        assertEquals(List.of(), ChangeReport.between(config(""), config("")));
    }

    @Test
    void timeoutAndResetCounterAreLive() throws Exception {
        RunnerConfig before = config("    powerdownTimeout: 60\n");
        RunnerConfig after =
                ConfigLoader.parse(
                        "\"/Runner\":\n"
                                + "  runtimeDir: /run/t\n"
                                + "  dataDir: /d\n"
                                + "  resetCounter: 1\n"
                                + "  vm:\n"
                                + "    name: t\n"
                                + "    powerdownTimeout: 5\n",
                        Path.of("c.yaml"),
                        Map.of());
        assertEquals(
                List.of(
                        new Change("resetCounter", "(none)", "1", LiveKey.RESET_COUNTER),
                        new Change("vm.powerdownTimeout", "60", "5", LiveKey.POWERDOWN_TIMEOUT)),
                ChangeReport.between(before, after));
    }

    @Test
    void everyLiveKeyIsFoundByItsPath() {
        for (LiveKey key : LiveKey.values()) {
            String path = key == LiveKey.CD_MEDIUM ? LiveKey.cdMedium(3) : key.path();
            assertEquals(Optional.of(key), LiveKey.of(path), path);
        }
        assertEquals(Optional.empty(), LiveKey.of("vm.maximumRam"));
        assertEquals(Optional.empty(), LiveKey.of("vm.drives[0].type"));
        assertEquals(3, LiveKey.drivePosition(LiveKey.cdMedium(3)));
    }
}
