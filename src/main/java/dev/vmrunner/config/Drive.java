package dev.vmrunner.config;

import java.util.Objects;

/**
 * One drive of the VM.
 *
 * <p>For {@code raw} drives the loader guarantees that exactly one of {@code file} and {@code
 * device} is set; a configured {@code resource} has been resolved to one of them (a regular file
 * becomes {@code file}, anything else {@code device}) and is kept for reference. For {@code ide-cd}
 * drives only {@code file} is used; {@code null} means an empty drive.
 *
 * @param type {@code ide-cd} or {@code raw}
 * @param file a file (or, for CDs, anything QEMU accepts as a file name)
 * @param device a block device
 * @param resource the configured resource, if any
 * @param bootindex the boot order index or {@code null}
 */
public record Drive(String type, String file, String device, String resource, Integer bootindex) {
    public static final String IDE_CD = "ide-cd";
    public static final String RAW = "raw";

    public Drive {
        Objects.requireNonNull(type, "type");
    }

    /** Whether this is a CD drive (its medium can be changed at runtime). */
    public boolean isCd() {
        return IDE_CD.equals(type);
    }
}
