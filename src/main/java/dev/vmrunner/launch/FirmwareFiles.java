package dev.vmrunner.launch;

import dev.vmrunner.config.Firmware;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * UEFI firmware for a VM: the read-only code file and the VM's own variables (NVRAM) file,
 * plus the distribution's template from which the variables file is made once.
 */
public record FirmwareFiles(Path code, Path varsTemplate, Path vars) {

    /** A code file and the vars template that belongs to it (same size and flavour). */
    record Candidate(String code, String vars) {
    }

    // Debian/Ubuntu, Fedora/RHEL, Arch. Pairs are kept together: a 2 MiB code file with
    // 4 MiB vars (or a secure-boot code file with plain vars) does not boot.
    private static final List<Candidate> UEFI = List.of(
        new Candidate("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
        new Candidate("/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd"),
        new Candidate("/usr/share/edk2/x64/OVMF_CODE.fd", "/usr/share/edk2/x64/OVMF_VARS.fd"));
    private static final List<Candidate> UEFI_4M = List.of(
        new Candidate("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
        new Candidate("/usr/share/edk2/ovmf-4m/OVMF_CODE.fd",
            "/usr/share/edk2/ovmf-4m/OVMF_VARS.fd"),
        new Candidate("/usr/share/edk2/x64/OVMF_CODE.4m.fd",
            "/usr/share/edk2/x64/OVMF_VARS.4m.fd"));
    private static final List<Candidate> SECURE = List.of(
        new Candidate("/usr/share/OVMF/OVMF_CODE.secboot.fd", "/usr/share/OVMF/OVMF_VARS.ms.fd"),
        new Candidate("/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd",
            "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd"),
        new Candidate("/usr/share/edk2/x64/OVMF_CODE.secboot.fd",
            "/usr/share/edk2/x64/OVMF_VARS.fd"));
    private static final List<Candidate> SECURE_4M = List.of(
        new Candidate("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
            "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"),
        new Candidate("/usr/share/edk2/ovmf-4m/OVMF_CODE.secboot.fd",
            "/usr/share/edk2/ovmf-4m/OVMF_VARS.secboot.fd"),
        new Candidate("/usr/share/edk2/x64/OVMF_CODE.secboot.4m.fd",
            "/usr/share/edk2/x64/OVMF_VARS.4m.fd"));

    /**
     * Finds the firmware for the given mode, or returns null for BIOS.
     *
     * @param vars where the VM's own variables file is (or will be) kept
     * @throws LaunchException naming every path tried when no pair is installed
     */
    public static FirmwareFiles locate(Firmware firmware, Path vars) throws LaunchException {
        List<Candidate> candidates = switch (firmware) {
            case BIOS -> null;
            case UEFI -> UEFI;
            case UEFI_4M -> UEFI_4M;
            case SECURE -> SECURE;
            case SECURE_4M -> SECURE_4M;
        };
        if (candidates == null) {
            return null;
        }
        List<String> tried = new ArrayList<>();
        for (Candidate c : candidates) {
            if (Files.isReadable(Path.of(c.code())) && Files.isReadable(Path.of(c.vars()))) {
                return new FirmwareFiles(Path.of(c.code()), Path.of(c.vars()), vars);
            }
            tried.add(c.code() + " + " + c.vars());
        }
        throw new LaunchException("Failed to find UEFI firmware for vm.firmware "
            + firmware.configName() + ": none of these is installed: " + String.join(", ", tried)
            + " (Debian/Ubuntu: apt-get install ovmf)");
    }
}
