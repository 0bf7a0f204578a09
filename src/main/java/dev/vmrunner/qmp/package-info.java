/**
 * QEMU Machine Protocol: {@link dev.vmrunner.qmp.QmpConnection} is the transport (one Unix socket,
 * greeting and {@code qmp_capabilities}, ids matched to futures, per-command timeouts, events to a
 * listener), {@link dev.vmrunner.qmp.Qmp} the typed commands above it. Depends on the JDK and Gson
 * only.
 *
 * <p>Every frame is logged at {@code FINE} by the {@code dev.vmrunner.qmp.QmpConnection} logger.
 */
package dev.vmrunner.qmp;
