package dev.vmrunner.qmp;

/**
 * Whether a vCPU slot emptied by an unplug may be plugged again in the same QEMU run. QEMU 7.2
 * (Debian 12) corrupts its heap and aborts on that plug; QEMU 10.0 (Debian 13) re-plugs the slot
 * (ContainerIT#replugsAnEmptiedCpuSlotOnQemu10 shows it: add, remove, add again). The versions in
 * between are not verified here, so they are treated like 7.2.
 */
public final class CpuReplugPolicy {

    /** The oldest QEMU on which re-plugging an emptied slot was verified. */
    static final QemuVersion FIRST_VERIFIED = new QemuVersion(10, 0, 0);

    private CpuReplugPolicy() {}

    /** True when emptied slots may be plugged again on {@code version}. */
    public static boolean emptiedSlotsReusable(QemuVersion version) {
        return version.compareTo(FIRST_VERIFIED) >= 0;
    }
}
