package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.Firmware;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding OVMF pairs below a fake root that holds (sparse) files of the real sizes. */
class FirmwareFilesTest {

    static final long CODE_2M = 1966080;
    static final long VARS_2M = 131072;
    static final long CODE_4M = 3653632;
    static final long VARS_4M = 540672;

    @TempDir Path root;

    Path nvram() {
        return root.resolve("data/fw-vars.fd");
    }

    void file(String path, long size) throws IOException {
        Path file = root.resolve(path.substring(1));
        Files.createDirectories(file.getParent());
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    void debian() throws IOException {
        file("/usr/share/OVMF/OVMF_CODE.fd", CODE_2M);
        file("/usr/share/OVMF/OVMF_VARS.fd", VARS_2M);
        file("/usr/share/OVMF/OVMF_CODE_4M.fd", CODE_4M);
        file("/usr/share/OVMF/OVMF_VARS_4M.fd", VARS_4M);
        file("/usr/share/OVMF/OVMF_CODE.secboot.fd", CODE_2M);
        file("/usr/share/OVMF/OVMF_VARS.ms.fd", VARS_2M);
        file("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", CODE_4M);
        file("/usr/share/OVMF/OVMF_VARS_4M.ms.fd", VARS_4M);
    }

    FirmwareFiles locate(Firmware firmware) throws LaunchException {
        return FirmwareFiles.locate(firmware, nvram(), root, FirmwareFiles.DISTRIBUTIONS);
    }

    String rel(Path path) {
        return "/" + root.relativize(path);
    }

    @Test
    void biosNeedsNoFirmwareFiles() throws Exception {
        assertNull(locate(Firmware.BIOS));
    }

    @Test
    void debianPairsPerMode() throws Exception {
        debian();
        assertEquals("/usr/share/OVMF/OVMF_CODE.fd", rel(locate(Firmware.UEFI).code()));
        assertEquals("/usr/share/OVMF/OVMF_VARS.fd", rel(locate(Firmware.UEFI).varsTemplate()));
        assertEquals("/usr/share/OVMF/OVMF_CODE_4M.fd", rel(locate(Firmware.UEFI_4M).code()));
        assertEquals(
                "/usr/share/OVMF/OVMF_VARS_4M.fd", rel(locate(Firmware.UEFI_4M).varsTemplate()));
        assertEquals("/usr/share/OVMF/OVMF_CODE.secboot.fd", rel(locate(Firmware.SECURE).code()));
        assertEquals(
                "/usr/share/OVMF/OVMF_VARS.ms.fd", rel(locate(Firmware.SECURE).varsTemplate()));
        assertEquals(
                "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", rel(locate(Firmware.SECURE_4M).code()));
        assertEquals(
                "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
                rel(locate(Firmware.SECURE_4M).varsTemplate()));
        assertEquals(nvram(), locate(Firmware.UEFI).vars());
    }

    @Test
    void uefiFallsBackToThe4MiBBuildWhereItIsAllThereIs() throws Exception {
        file("/usr/share/edk2/ovmf/OVMF_CODE.fd", CODE_4M); // Fedora 38 and later
        file("/usr/share/edk2/ovmf/OVMF_VARS.fd", VARS_4M);
        assertEquals("/usr/share/edk2/ovmf/OVMF_CODE.fd", rel(locate(Firmware.UEFI).code()));
        assertEquals("/usr/share/edk2/ovmf/OVMF_CODE.fd", rel(locate(Firmware.UEFI_4M).code()));
    }

    @Test
    void fourMiBModeRejectsA2MiBBuild() throws Exception {
        file("/usr/share/edk2/ovmf-4m/OVMF_CODE.fd", CODE_2M);
        file("/usr/share/edk2/ovmf-4m/OVMF_VARS.fd", VARS_2M);
        LaunchException e = assertThrows(LaunchException.class, () -> locate(Firmware.UEFI_4M));
        assertTrue(
                e.getMessage().startsWith("Failed to find UEFI firmware for vm.firmware uefi-4m"),
                e.getMessage());
    }

    @Test
    void mismatchedPairIsNotUsed() throws Exception {
        file("/usr/share/OVMF/OVMF_CODE.fd", CODE_2M);
        file("/usr/share/OVMF/OVMF_VARS.fd", VARS_4M);
        LaunchException e = assertThrows(LaunchException.class, () -> locate(Firmware.UEFI));
        assertTrue(
                e.getMessage().contains("OVMF_VARS.fd (sizes do not form one flash image)"),
                e.getMessage());
    }

    @Test
    void missingOvmfIsOneMessageNamingEveryPathTried() {
        LaunchException e = assertThrows(LaunchException.class, () -> locate(Firmware.SECURE));
        String message = e.getMessage();
        assertTrue(
                message.startsWith(
                        "Failed to find UEFI firmware for vm.firmware secure:"
                                + " none of these is installed: "),
                message);
        for (String path :
                new String[] {
                    "/usr/share/OVMF/OVMF_CODE.secboot.fd",
                    "/usr/share/OVMF/OVMF_VARS.ms.fd",
                    "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd",
                    "/usr/share/edk2/x64/OVMF_CODE.secboot.4m.fd"
                }) {
            assertTrue(message.contains(root.resolve(path.substring(1)).toString()), message);
        }
        assertTrue(message.contains("apt-get install ovmf"), message);
        assertEquals(1, message.lines().count(), message);
    }

    @Test
    void existingNvramKeepsThePairItWasMadeFrom() throws Exception {
        debian();
        file("/data/fw-vars.fd", VARS_4M);
        assertEquals("/usr/share/OVMF/OVMF_CODE_4M.fd", rel(locate(Firmware.UEFI).code()));
    }

    @Test
    void nvramOfAnotherBuildIsAClearError() throws Exception {
        debian();
        file("/data/fw-vars.fd", VARS_2M);
        LaunchException e = assertThrows(LaunchException.class, () -> locate(Firmware.UEFI_4M));
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "Failed to use the VM's UEFI NVRAM "
                                        + nvram()
                                        + ": its size (131072 bytes) fits none of the installed"
                                        + " firmware"),
                e.getMessage());
    }

    @Test
    void installedFirmwareOfThisMachineIsFound() throws Exception {
        // The tests and the golden files rely on Debian's ovmf package.
        FirmwareFiles found = FirmwareFiles.locate(Firmware.UEFI, nvram());
        assertEquals(Path.of("/usr/share/OVMF/OVMF_CODE.fd"), found.code());
    }
}
