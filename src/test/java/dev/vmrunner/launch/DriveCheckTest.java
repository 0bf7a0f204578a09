package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which drives {@code check} and a start refuse before QEMU would. */
class DriveCheckTest {

    @TempDir Path dir;

    private final List<String> errors = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    private void check(String drives) throws Exception {
        RunnerConfig config =
                ConfigLoader.parse(
                        "\"/Runner\":\n  dataDir: "
                                + dir.resolve("data")
                                + "\n  vm:\n    name: x\n    drives:\n"
                                + drives,
                        dir.resolve("config.yaml"),
                        Map.of());
        DriveCheck.check(config, errors, warnings);
    }

    @Test
    void existingFilesAndAnEmptyCdDriveAreFine() throws Exception {
        Path disk = Files.write(dir.resolve("disk.img"), new byte[512]);
        Path iso = Files.write(dir.resolve("a.iso"), new byte[2048]);
        check(
                "      - type: raw\n        file: "
                        + disk
                        + "\n"
                        + "      - type: ide-cd\n        file: "
                        + iso
                        + "\n"
                        + "      - type: ide-cd\n        file: \"\"\n"
                        + "      - type: ide-cd\n        file: nbd:localhost:10809\n");
        assertEquals(List.of(), errors);
        assertEquals(List.of(), warnings);
    }

    @Test
    void aMissingCdImageIsAnErrorNamingKeyAndPath() throws Exception {
        Path iso = dir.resolve("missing.iso");
        check(
                "      - type: raw\n        device: /dev/null\n      - type: ide-cd\n        file: "
                        + iso
                        + "\n");
        assertEquals(List.of("vm.drives[1].file: no such file: " + iso), errors);
    }

    @Test
    void missingDirectoryAndDeviceMixUpsAreErrors() throws Exception {
        Path missing = dir.resolve("nothing.img");
        check(
                "      - type: raw\n        file: "
                        + missing
                        + "\n"
                        + "      - type: raw\n        file: "
                        + dir
                        + "\n"
                        + "      - type: raw\n        device: "
                        + dir.resolve("gone")
                        + "\n"
                        + "      - type: raw\n        file: /dev/null\n");
        assertEquals(4, errors.size(), "" + errors);
        assertEquals("vm.drives[0].file: no such file: " + missing, errors.get(0));
        assertTrue(errors.get(1).startsWith("vm.drives[1].file: " + dir + " is a directory"));
        assertTrue(errors.get(2).startsWith("vm.drives[2].device: no such device"));
        assertTrue(errors.get(3).startsWith("vm.drives[3].file: /dev/null is a device"));
    }

    @Test
    void aDiskThatCannotBeWrittenIsAnErrorAnEmptyOneAWarning() throws Exception {
        Path readOnly = Files.write(dir.resolve("ro.img"), new byte[512]);
        assertTrue(readOnly.toFile().setWritable(false));
        Path empty = Files.createFile(dir.resolve("empty.img"));
        check(
                "      - type: raw\n        file: "
                        + readOnly
                        + "\n"
                        + "      - type: raw\n        resource: "
                        + empty
                        + "\n");
        if (!"root".equals(System.getProperty("user.name"))) {
            assertEquals(1, errors.size(), "" + errors);
            assertTrue(errors.get(0).contains("cannot be written"), errors.get(0));
        }
        assertEquals(
                List.of(
                        "vm.drives[1].resource: "
                                + empty
                                + " is empty (0 bytes); the guest sees no disk space"),
                warnings);
    }

    @Test
    void protocolNames() {
        assertTrue(DriveCheck.isProtocol("nbd:localhost:10809"));
        assertTrue(DriveCheck.isProtocol("https://example.org/a.iso"));
        assertFalse(DriveCheck.isProtocol("/srv/a:b.iso"));
        assertFalse(DriveCheck.isProtocol("./a:b.iso"));
        assertFalse(DriveCheck.isProtocol("a.iso"));
    }
}
