package dev.vmrunner.config;

import java.util.Objects;

/**
 * One network interface of the VM.
 *
 * @param type {@code tap} (attach to a host bridge) or {@code user} (QEMU's user networking)
 * @param bridge tap only; {@code null} means QEMU's default bridge (see qemu-bridge-helper)
 * @param device the QEMU NIC model, e.g. {@code virtio-net}
 * @param mac the MAC address ({@code xx:xx:xx:xx:xx:xx}) or {@code null} for QEMU's choice
 * @param net user only: the guest network in CIDR notation, or {@code null}
 */
public record Network(String type, String bridge, String device, String mac, String net) {
    public static final String TAP = "tap";
    public static final String USER = "user";
    public static final String DEFAULT_DEVICE = "virtio-net";

    public Network {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(device, "device");
    }

    /** The interface used when the configuration has no {@code network} key. */
    public static Network defaultTap() {
        return new Network(TAP, null, DEFAULT_DEVICE, null, null);
    }
}
