/**
 * QEMU guest agent client: {@link dev.vmrunner.agent.GuestAgent} talks to {@code qemu-ga} in the
 * guest over the virtio-serial channel {@code org.qemu.guest_agent.0}, which QEMU offers as a Unix
 * socket server; {@link dev.vmrunner.agent.GuestAgentWatcher} turns its answers into the guest's
 * "booted" state and facts (OS, host name, time zone, addresses). Depends on the JDK, Gson and the
 * line transport of {@code dev.vmrunner.qmp}.
 *
 * <p>Every frame is logged at {@code FINE} by the {@code dev.vmrunner.agent.AgentChannel} logger.
 */
package dev.vmrunner.agent;
