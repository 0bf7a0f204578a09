package dev.vmrunner.qmp;

/**
 * Whether one more vCPU may be plugged in the current QEMU run, from what was measured on QEMU
 * 7.2.22 (Debian 12) and 10.0.13 (Debian 13) with the test guest under TCG:
 *
 * <ul>
 *   <li>QEMU 7.2 aborts ("double free or corruption") when a vCPU is plugged into a slot an unplug
 *       emptied. QEMU 10.0 re-plugs such a slot (ContainerIT#replugsAnEmptiedCpuSlot). The versions
 *       in between are not verified here, so they are treated like 7.2.
 *   <li>Under TCG, both allocate one translation context per possible vCPU ({@code maxcpus}) at
 *       start and never free one: every vCPU created in the run uses one up, a re-plug included,
 *       and the plug after the last aborts QEMU ({@code tcg_register_thread: assertion failed: (n <
 *       tcg_max_ctxs)}). Without re-plugs the limit is never reached.
 * </ul>
 *
 * KVM reuses the vCPUs it parked at an unplug; it could not be verified here (no working nested
 * KVM), so KVM gets the version rule only.
 */
public final class CpuReplugPolicy {

    /** The oldest QEMU on which re-plugging an emptied slot was verified. */
    static final QemuVersion FIRST_VERIFIED = new QemuVersion(10, 0, 0);

    private CpuReplugPolicy() {}

    /** True when slots emptied by an unplug may be plugged again on {@code version}. */
    public static boolean emptiedSlotsReusable(QemuVersion version) {
        return version.compareTo(FIRST_VERIFIED) >= 0;
    }

    /**
     * True when one more vCPU may be plugged.
     *
     * @param accelerator the VM's {@code vm.accelerator} ({@code tcg}, {@code kvm}, ...)
     * @param emptiedSlot whether the plug goes into a slot an unplug emptied in this run
     * @param created vCPUs created in this QEMU run so far: those it started with plus every
     *     successful plug, re-plugs included (unplugs do not give one back)
     * @param maximumCpus QEMU's {@code maxcpus} ({@code vm.maximumCpus})
     */
    public static boolean mayPlug(
            QemuVersion version,
            String accelerator,
            boolean emptiedSlot,
            int created,
            int maximumCpus) {
        if (emptiedSlot && !emptiedSlotsReusable(version)) {
            return false;
        }
        return !"tcg".equals(accelerator) || created < maximumCpus;
    }
}
