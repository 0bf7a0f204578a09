package dev.vmrunner.config;

/**
 * A port of the host (the pod) forwarded into the guest, from a {@code vm.network[].ports} entry.
 *
 * @param protocol {@code tcp} or {@code udp}
 * @param hostPort where connections arrive on the host's (the pod's) addresses
 * @param guestPort where they go in the guest
 */
public record PortForward(String protocol, int hostPort, int guestPort) {
    public static final String TCP = "tcp";
    public static final String UDP = "udp";

    /** How the entry is written back: {@code 8080:80/udp}, {@code 22}. */
    @Override
    public String toString() {
        return (hostPort == guestPort ? "" : hostPort + ":")
                + guestPort
                + (UDP.equals(protocol) ? "/udp" : "");
    }
}
