package dev.vmrunner.qmp;

/**
 * What {@code query-spice} tells.
 *
 * @param auth {@code spice} (a password is required) or {@code none}; null when SPICE is off
 * @param host the address SPICE listens on; null when not reported
 * @param clients the number of connected clients (channels of the main kind)
 */
public record SpiceInfo(boolean enabled, String auth, String host, Integer port, int clients) {}
