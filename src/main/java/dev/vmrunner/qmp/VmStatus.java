package dev.vmrunner.qmp;

/**
 * Reply of {@code query-status}.
 *
 * @param status QEMU's RunState, e.g. {@code prelaunch}, {@code running}, {@code paused}, {@code
 *     shutdown}
 * @param running whether vCPUs run
 */
public record VmStatus(String status, boolean running) {}
