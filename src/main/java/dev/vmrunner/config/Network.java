package dev.vmrunner.config;

import java.util.List;
import java.util.Objects;

/**
 * One network interface of the VM.
 *
 * @param type {@code tap} (attach to a host bridge), {@code user} (QEMU's user networking) or
 *     {@code passt} (the guest on the host's, i.e. the pod's, address through passt)
 * @param bridge tap only; {@code null} means QEMU's default bridge (see qemu-bridge-helper)
 * @param device the QEMU NIC model, e.g. {@code virtio-net}
 * @param mac the MAC address ({@code xx:xx:xx:xx:xx:xx}) or {@code null} for QEMU's choice
 * @param net user only: the guest network in CIDR notation, or {@code null}
 * @param ports user and passt: the host's ports forwarded into the guest (none by default)
 */
public record Network(
        String type,
        String bridge,
        String device,
        String mac,
        String net,
        List<PortForward> ports) {
    public static final String TAP = "tap";
    public static final String USER = "user";
    public static final String PASST = "passt";
    public static final String DEFAULT_DEVICE = "virtio-net";

    public Network {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(device, "device");
        ports = List.copyOf(ports);
    }

    /** An interface without forwarded ports. */
    public Network(String type, String bridge, String device, String mac, String net) {
        this(type, bridge, device, mac, net, List.of());
    }

    /** The interface used when the configuration has no {@code network} key. */
    public static Network defaultTap() {
        return new Network(TAP, null, DEFAULT_DEVICE, null, null);
    }
}
