package dev.vmrunner.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A template written in upstream's model (src/test/resources/templates/upstream-model.ftl.yaml.in:
 * {@code vm.display.outputs} read unconditionally, {@code hasDisplayPassword}, a FAT cloud-init
 * seed made with mtools through {@code /bin/sh}) renders and boots the test guest with a
 * configuration that has no {@code display}; the guest sees the seed.
 */
class UpstreamModelIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir Path dir;

    @Test
    void bootsWithoutDisplayAndTheGuestSeesTheFatSeed() throws Exception {
        try (TestVm vm = new TestVm(dir)) {
            Files.createDirectories(vm.templates);
            Files.writeString(
                    vm.templates.resolve("upstream-model.ftl.yaml"),
                    Files.readString(
                                    Path.of(
                                            "src/test/resources/templates/upstream-model.ftl.yaml.in"))
                            .replace("@GUEST@", TestVm.guest().toString())
                            .replace("@SERIAL@", vm.serial.toString())
                            .replace("@CMDSOCK@", vm.commandSocket.toString()));
            Files.writeString(
                    vm.config,
                    vm.configText("e2e-upstream-model")
                            .replace(
                                    "  template: testguest.ftl.yaml\n",
                                    "  template: upstream-model.ftl.yaml\n")
                            .replace(
                                    "  vm:\n",
                                    "  cloudInit:\n"
                                            + "    metaData:\n"
                                            + "      instance-id: iid-upstream-1\n"
                                            + "    userData: {}\n"
                                            + "  vm:\n"));
            vm.boot();
            String label =
                    vm.guestCommand("dd if=/dev/vda bs=512 count=1 2>/dev/null | strings", WAIT);
            assertTrue(label.contains("CIDATA"), "FAT label: " + label);
            String files = vm.guestCommand("strings /dev/vda | grep instance-id", WAIT);
            assertTrue(files.contains("iid-upstream-1"), files);
            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
        }
    }
}
