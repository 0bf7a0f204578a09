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
 * @param lockedTray CDs: what a change does while the guest holds the tray locked, {@link #WAIT}
 *     (default) or {@link #EJECT_REQUEST}
 */
public record Drive(
        String type,
        String file,
        String device,
        String resource,
        Integer bootindex,
        String lockedTray) {
    public static final String IDE_CD = "ide-cd";
    public static final String RAW = "raw";

    /** Send the guest nothing; the change completes once the guest ejects by itself. */
    public static final String WAIT = "wait";

    /**
     * Press the drive's eject button once: QEMU asks the guest to eject, and the guest decides
     * (Debian's udev ejects even a mounted disc).
     */
    public static final String EJECT_REQUEST = "eject-request";

    public Drive {
        Objects.requireNonNull(type, "type");
        lockedTray = lockedTray == null ? WAIT : lockedTray;
    }

    public Drive(String type, String file, String device, String resource, Integer bootindex) {
        this(type, file, device, resource, bootindex, WAIT);
    }

    /** Whether a change asks the guest to eject a locked tray. */
    public boolean requestsEject() {
        return EJECT_REQUEST.equals(lockedTray);
    }

    /** Whether this is a CD drive (its medium can be changed at runtime). */
    public boolean isCd() {
        return IDE_CD.equals(type);
    }
}
