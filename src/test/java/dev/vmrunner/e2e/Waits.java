package dev.vmrunner.e2e;

import java.time.Duration;
import java.util.Locale;

/**
 * How long the end-to-end tests wait: every bound in them is what an idle machine needs, with a
 * margin, times one factor for a busy one. A guest that boots in 20 to 40 s under TCG on an idle
 * host took 80 s on two cores shared with another test suite (load 7 to 8); the default factor
 * covers that. Set it with {@code -Dvmrunner.timeoutScale=N} or {@code VMRUNNER_TIMEOUT_SCALE=N}
 * (the property wins); the runners the tests start get the same factor in {@code
 * VMRUNNER_TIMEOUT_SCALE}, which stretches their own start and stop deadlines alike.
 *
 * <p>A bound only costs time when a test fails, so the factor errs on the long side.
 */
public final class Waits {

    public static final String PROPERTY = "vmrunner.timeoutScale";
    public static final String ENV = "VMRUNNER_TIMEOUT_SCALE";
    static final double DEFAULT = 2;

    /** The factor: at least 1. */
    public static final double SCALE = scale();

    private Waits() {}

    /** {@code seconds} on an idle machine, scaled. */
    public static Duration seconds(long seconds) {
        return scaled(Duration.ofSeconds(seconds));
    }

    /** {@code idle} (what an idle machine needs), scaled. */
    public static Duration scaled(Duration idle) {
        return Duration.ofMillis(Math.round(idle.toMillis() * SCALE));
    }

    /** The factor as the runner's environment variable wants it. */
    public static String text() {
        return String.format(Locale.ROOT, "%.2f", SCALE);
    }

    private static double scale() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            value = System.getenv(ENV);
        }
        if (value == null || value.isBlank()) {
            return DEFAULT;
        }
        double factor = Double.parseDouble(value.strip());
        if (!(factor >= 1)) {
            throw new IllegalArgumentException(PROPERTY + " must be at least 1: " + value);
        }
        return factor;
    }
}
