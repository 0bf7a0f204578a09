package dev.vmrunner.status;

/**
 * A live migration this runner takes part in, as {@code status} and {@code /metrics} show it.
 *
 * @param role {@code outgoing} (this runner sends the guest) or {@code incoming} (it receives it)
 * @param peer the migration URI ({@code tcp:HOST:PORT})
 * @param status QEMU's migration status ({@code setup}, {@code active}, {@code completed}, {@code
 *     failed}, {@code cancelled}, ...)
 * @param transferredBytes RAM bytes sent or received so far
 * @param remainingBytes RAM bytes still to send (outgoing)
 * @param totalBytes the guest's RAM
 * @param dirtyPagesRate pages the guest dirties per second (outgoing)
 * @param expectedDowntimeMs the guest's pause QEMU expects for the switch-over (outgoing)
 * @param downtimeMs the guest's pause, once completed (outgoing)
 * @param totalTimeMs how long it took, or has taken so far
 * @param result how it ended ({@code completed}, {@code failed: WHY}, {@code cancelled}), null
 *     while it runs
 */
public record MigrationStatus(
        String role,
        String peer,
        String status,
        long transferredBytes,
        long remainingBytes,
        long totalBytes,
        long dirtyPagesRate,
        long expectedDowntimeMs,
        long downtimeMs,
        long totalTimeMs,
        String result) {}
