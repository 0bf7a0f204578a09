package dev.vmrunner.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version Maven wrote into the jar. */
final class Version {

    private Version() {}

    static String text() {
        Properties props = new Properties();
        try (InputStream in =
                Version.class.getResourceAsStream("/dev/vmrunner/version.properties")) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            // Unknown version; say so.
        }
        return props.getProperty("version", "unknown");
    }
}
