package dev.vmrunner.config;

import java.util.Optional;

/**
 * How the VM boots: legacy BIOS or UEFI (OVMF), optionally with secure boot and 4 MiB flash images.
 */
public enum Firmware {
    BIOS("bios"),
    UEFI("uefi"),
    UEFI_4M("uefi-4m"),
    SECURE("secure"),
    SECURE_4M("secure-4m");

    private final String configName;

    Firmware(String configName) {
        this.configName = configName;
    }

    /** The spelling used in configuration files and templates, e.g. {@code uefi-4m}. */
    public String configName() {
        return configName;
    }

    /** Looks a value up by its configuration spelling (exact, lower case). */
    public static Optional<Firmware> of(String name) {
        for (Firmware firmware : values()) {
            if (firmware.configName.equals(name)) {
                return Optional.of(firmware);
            }
        }
        return Optional.empty();
    }

    /** Whether the firmware is OVMF (needs a code ROM and a vars file). */
    public boolean isUefi() {
        return this != BIOS;
    }

    /** Whether secure boot is enabled (needs {@code smm=on} and secure pflash). */
    public boolean isSecure() {
        return this == SECURE || this == SECURE_4M;
    }

    /** Whether the 4 MiB OVMF flash layout is used. */
    public boolean is4m() {
        return this == UEFI_4M || this == SECURE_4M;
    }

    @Override
    public String toString() {
        return configName;
    }
}
