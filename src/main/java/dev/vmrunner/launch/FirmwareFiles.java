package dev.vmrunner.launch;

import dev.vmrunner.config.Firmware;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * UEFI firmware for a VM: the read-only code file and the VM's own variables (NVRAM) file, plus the
 * distribution's template from which the variables file is made once.
 *
 * <p>OVMF is built as one flash image split into a variables part and a code part, so a code file
 * and its vars template belong together when their sizes add up to the image size (2 MiB: 1966080 +
 * 131072 bytes; 4 MiB: 3653632 + 540672). A code file paired with the vars of another build does
 * not boot, so pairs are checked by size, not only by name.
 */
public record FirmwareFiles(Path code, Path varsTemplate, Path vars) {

    private static final long MIB = 1024 * 1024;
    private static final List<Long> IMAGE_SIZES = List.of(MIB, 2 * MIB, 4 * MIB);

    /** A code file and the vars template that belongs to it. */
    record Candidate(String code, String vars) {}

    /** Where the distributions put OVMF: Debian/Ubuntu, Fedora/RHEL, Arch. */
    record Candidates(List<Candidate> plain, List<Candidate> secure) {}

    // Debian/Ubuntu ship MS-enrolled vars (.ms.fd) for Secure Boot; Fedora's secboot vars are
    // enrolled too. Arch has no enrolled vars: its Secure Boot VMs start in setup mode.
    // Fedora's ovmf/ directory holds the 4 MiB build since Fedora 38, ovmf-4m/ before that.
    static final Candidates DISTRIBUTIONS =
            new Candidates(
                    List.of(
                            new Candidate(
                                    "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
                            new Candidate(
                                    "/usr/share/OVMF/OVMF_CODE_4M.fd",
                                    "/usr/share/OVMF/OVMF_VARS_4M.fd"),
                            new Candidate(
                                    "/usr/share/edk2/ovmf/OVMF_CODE.fd",
                                    "/usr/share/edk2/ovmf/OVMF_VARS.fd"),
                            new Candidate(
                                    "/usr/share/edk2/ovmf-4m/OVMF_CODE.fd",
                                    "/usr/share/edk2/ovmf-4m/OVMF_VARS.fd"),
                            new Candidate(
                                    "/usr/share/edk2/x64/OVMF_CODE.fd",
                                    "/usr/share/edk2/x64/OVMF_VARS.fd"),
                            new Candidate(
                                    "/usr/share/edk2/x64/OVMF_CODE.4m.fd",
                                    "/usr/share/edk2/x64/OVMF_VARS.4m.fd")),
                    List.of(
                            new Candidate(
                                    "/usr/share/OVMF/OVMF_CODE.secboot.fd",
                                    "/usr/share/OVMF/OVMF_VARS.ms.fd"),
                            new Candidate(
                                    "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
                                    "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"),
                            new Candidate(
                                    "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd",
                                    "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd"),
                            new Candidate(
                                    "/usr/share/edk2/ovmf-4m/OVMF_CODE.secboot.fd",
                                    "/usr/share/edk2/ovmf-4m/OVMF_VARS.secboot.fd"),
                            new Candidate(
                                    "/usr/share/edk2/x64/OVMF_CODE.secboot.fd",
                                    "/usr/share/edk2/x64/OVMF_VARS.fd"),
                            new Candidate(
                                    "/usr/share/edk2/x64/OVMF_CODE.secboot.4m.fd",
                                    "/usr/share/edk2/x64/OVMF_VARS.4m.fd")));

    /** An installed pair and the size of the flash image it forms. */
    private record Installed(Path code, Path vars, long varsSize, long imageSize) {}

    /**
     * Finds the firmware for the given mode, or returns null for BIOS.
     *
     * @param vars where the VM's own variables file is (or will be) kept
     * @throws LaunchException naming every path tried when no pair is installed
     */
    public static FirmwareFiles locate(Firmware firmware, Path vars) throws LaunchException {
        return locate(firmware, vars, Path.of("/"), DISTRIBUTIONS);
    }

    /**
     * Finds the firmware below {@code root} (tests use a temporary directory).
     *
     * <p>{@code uefi} and {@code secure} prefer the 2 MiB build and fall back to the 4 MiB one,
     * which is all that some distributions still ship; the {@code -4m} modes take only the 4 MiB
     * build. A VM that already has its NVRAM gets the pair its NVRAM was made from (same size), so
     * a firmware update that adds another build does not break it.
     */
    static FirmwareFiles locate(Firmware firmware, Path vars, Path root, Candidates candidates)
            throws LaunchException {
        if (!firmware.isUefi()) {
            return null;
        }
        List<String> tried = new ArrayList<>();
        List<Installed> usable = new ArrayList<>();
        for (Candidate c : firmware.isSecure() ? candidates.secure() : candidates.plain()) {
            Installed pair = installed(root, c, tried);
            if (pair != null && (!firmware.is4m() || pair.imageSize() == 4 * MIB)) {
                usable.add(pair);
            }
        }
        if (usable.isEmpty()) {
            throw new LaunchException(
                    "Failed to find UEFI firmware for vm.firmware "
                            + firmware.configName()
                            + ": none of these is installed: "
                            + String.join(", ", tried)
                            + " (Debian/Ubuntu: apt-get install ovmf; Fedora, Arch: edk2-ovmf)");
        }
        Installed chosen = chooseFor(vars, firmware, usable);
        return new FirmwareFiles(chosen.code(), chosen.vars(), vars);
    }

    private static Installed installed(Path root, Candidate c, List<String> tried) {
        Path code = root.resolve(c.code().substring(1));
        Path vars = root.resolve(c.vars().substring(1));
        if (!Files.isReadable(code) || !Files.isReadable(vars)) {
            tried.add(code + " + " + vars);
            return null;
        }
        try {
            long varsSize = Files.size(vars);
            long image = Files.size(code) + varsSize;
            if (IMAGE_SIZES.contains(image)) {
                return new Installed(code, vars, varsSize, image);
            }
            tried.add(code + " + " + vars + " (sizes do not form one flash image)");
        } catch (IOException e) {
            tried.add(code + " + " + vars + " (" + e.getMessage() + ")");
        }
        return null;
    }

    private static Installed chooseFor(Path vars, Firmware firmware, List<Installed> usable)
            throws LaunchException {
        if (Files.exists(vars)) {
            long size;
            try {
                size = Files.size(vars);
            } catch (IOException e) {
                throw new LaunchException(
                        "Failed to read the VM's UEFI NVRAM " + vars + ": " + e.getMessage(), e);
            }
            for (Installed pair : usable) {
                if (pair.varsSize() == size) {
                    return pair;
                }
            }
            throw new LaunchException(
                    "Failed to use the VM's UEFI NVRAM "
                            + vars
                            + ": its size ("
                            + size
                            + " bytes) fits none of the installed firmware for vm.firmware "
                            + firmware.configName()
                            + " ("
                            + describe(usable)
                            + "); it was made for another firmware build: choose the matching"
                            + " vm.firmware, or remove it to start over with empty UEFI variables");
        }
        for (Installed pair : usable) {
            if (pair.imageSize() == 2 * MIB) {
                return pair;
            }
        }
        return usable.get(0);
    }

    private static String describe(List<Installed> usable) {
        List<String> parts = new ArrayList<>();
        for (Installed pair : usable) {
            parts.add(pair.vars() + ": " + pair.varsSize() + " bytes");
        }
        return String.join(", ", parts);
    }
}
