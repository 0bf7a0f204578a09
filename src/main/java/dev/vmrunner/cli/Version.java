package dev.vmrunner.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version and git commit Maven wrote into the jar. */
final class Version {

    static final String UNKNOWN = "unknown";

    private Version() {}

    /**
     * The version and the commit: {@code 0.1.0 (commit 0123456789ab)}, {@code -dirty} appended when
     * the checkout had uncommitted changes, {@code (commit unknown)} without a checkout.
     */
    static String text() {
        Properties props = load();
        return known(props.getProperty("version"))
                + " (commit "
                + known(props.getProperty("commit"))
                + ")";
    }

    /** A value Maven did not fill in (a build that skipped the git step) is unknown. */
    private static String known(String value) {
        return value == null || value.isBlank() || value.startsWith("${") ? UNKNOWN : value;
    }

    private static Properties load() {
        Properties props = new Properties();
        try (InputStream in =
                Version.class.getResourceAsStream("/dev/vmrunner/version.properties")) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            // Unknown version; say so.
        }
        return props;
    }
}
