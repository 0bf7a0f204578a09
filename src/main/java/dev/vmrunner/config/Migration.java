package dev.vmrunner.config;

import java.time.Duration;

/**
 * The {@code migration} keys and {@code incoming}: how this runner takes part in a live migration.
 *
 * @param incoming where a target runner waits for the guest ({@code --incoming} or the {@code
 *     incoming} key); null for a runner that starts the guest itself
 * @param maxDowntime the longest pause of the guest QEMU may plan for the switch-over ({@code
 *     downtime-limit})
 * @param deadline how long an outgoing migration may take before the runner gives it up; the guest
 *     runs on where it was
 * @param maxBandwidth bytes per second the stream may use ({@code max-bandwidth}); 0 leaves QEMU's
 *     default
 */
public record Migration(
        MigrationUri incoming, Duration maxDowntime, Duration deadline, long maxBandwidth) {

    public static final Duration DEFAULT_MAX_DOWNTIME = Duration.ofMillis(300);
    public static final Duration DEFAULT_DEADLINE = Duration.ofMinutes(10);

    /** The defaults: no incoming, 300 ms downtime, a 10 minute deadline, QEMU's bandwidth. */
    public static final Migration DEFAULTS =
            new Migration(null, DEFAULT_MAX_DOWNTIME, DEFAULT_DEADLINE, 0);

    /** The same settings, waiting for the guest at {@code uri}. */
    public Migration incoming(MigrationUri uri) {
        return new Migration(uri, maxDowntime, deadline, maxBandwidth);
    }
}
