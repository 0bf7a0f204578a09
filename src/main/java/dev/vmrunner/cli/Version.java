package dev.vmrunner.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** The version Maven wrote into the jar. */
final class Version implements IVersionProvider {

    static String text() {
        Properties props = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("/dev/vmrunner/version.properties")) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            // Unknown version; say so.
        }
        return props.getProperty("version", "unknown");
    }

    @Override
    public String[] getVersion() {
        return new String[] {"vmrunner " + text(), "Java " + Runtime.version()};
    }
}
