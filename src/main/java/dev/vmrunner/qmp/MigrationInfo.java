package dev.vmrunner.qmp;

/**
 * What {@code query-migrate} says (qapi/migration.json {@code MigrationInfo}); numbers QEMU has not
 * reported yet are 0.
 *
 * @param status QEMU's {@code MigrationStatus}: {@code none}, {@code setup}, {@code active}, {@code
 *     device}, {@code completed}, {@code failed}, {@code cancelling}, {@code cancelled}, ...
 * @param transferredBytes RAM bytes sent (or received) so far
 * @param remainingBytes RAM bytes still to send
 * @param totalBytes the guest's RAM
 * @param dirtyPagesRate pages the guest dirties per second
 * @param expectedDowntimeMs how long QEMU expects the guest's pause to be, were it to switch now
 * @param downtimeMs the pause of the switch-over, once completed
 * @param totalTimeMs how long the migration took (took so far)
 * @param error QEMU's reason for a failure, null without one
 */
public record MigrationInfo(
        String status,
        long transferredBytes,
        long remainingBytes,
        long totalBytes,
        long dirtyPagesRate,
        long expectedDowntimeMs,
        long downtimeMs,
        long totalTimeMs,
        String error) {

    /** True once the migration has ended, however. */
    public boolean ended() {
        return switch (status) {
            case "completed", "failed", "cancelled" -> true;
            default -> false;
        };
    }
}
