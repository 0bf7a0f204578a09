package dev.vmrunner.supervisor;

import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The supervisor's fixed deadlines, apart from the configured powerdownTimeout. A slow host (TCG,
 * CPUs shared with other work) stretches them all with {@value #SCALE_ENV}.
 */
public record Timeouts(
        Duration helperStart,
        Duration qmpConnect,
        Duration qmpCommand,
        Duration qmpSlowCommand,
        Duration powerdownRepress,
        Duration killGrace,
        Duration helperStop) {

    /** The environment variable: a factor from 1 to 100 for every deadline but the repress. */
    public static final String SCALE_ENV = "VMRUNNER_TIMEOUT_SCALE";

    public static final Timeouts DEFAULT =
            new Timeouts(
                    // swtpm creates its socket: milliseconds alone, beyond 10 s on two cores at
                    // load 8 (only a swtpm that neither exits nor creates it waits this long)
                    Duration.ofSeconds(30),
                    Duration.ofSeconds(30), // QEMU opens its QMP socket (slow under TCG, busy)
                    Duration.ofSeconds(10), // a QMP reply
                    Duration.ofSeconds(30), // cont, device_add, device_del, a medium change
                    Duration.ofSeconds(5), // pressing the power button again
                    Duration.ofSeconds(5), // SIGTERM -> SIGKILL
                    Duration.ofSeconds(2)); // swtpm ends by itself once QEMU is gone

    private static final Pattern FACTOR = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3})?");

    /**
     * The deadlines for this environment: {@link #DEFAULT}, times {@value #SCALE_ENV} if set.
     *
     * @throws IllegalArgumentException naming the variable, for a value that is not a number from 1
     *     to 100
     */
    public static Timeouts fromEnvironment(Map<String, String> env) {
        String value = env.get(SCALE_ENV);
        if (value == null || value.isBlank()) {
            return DEFAULT;
        }
        String text = value.strip();
        double factor = FACTOR.matcher(text).matches() ? Double.parseDouble(text) : 0;
        if (factor < 1 || factor > 100) {
            throw new IllegalArgumentException(
                    SCALE_ENV + ": '" + value + "' is not a number from 1 to 100 (e.g. 2.5)");
        }
        return DEFAULT.scaled(factor);
    }

    /** Every deadline times {@code factor}; the power button's repeat stays (not a deadline). */
    Timeouts scaled(double factor) {
        return new Timeouts(
                times(helperStart, factor),
                times(qmpConnect, factor),
                times(qmpCommand, factor),
                times(qmpSlowCommand, factor),
                powerdownRepress,
                times(killGrace, factor),
                times(helperStop, factor));
    }

    private static Duration times(Duration d, double factor) {
        return Duration.ofMillis(Math.round(d.toMillis() * factor));
    }
}
