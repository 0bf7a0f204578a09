package dev.vmrunner.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Default and configured locations of the per-VM directories. Pure: computes paths, never touches
 * the file system.
 */
final class Directories {
    static final String APP = "vmrunner";

    /**
     * The longest runtime directory that leaves room for the sockets of the runner/template
     * contract: Linux's {@code sun_path} holds 107 bytes plus NUL, and the longest socket name the
     * standard and the upstream templates put there is the guest agent's {@code
     * /org.qemu.guest_agent.0} (23 bytes).
     */
    static final int MAX_RUNTIME_DIR_BYTES = 107 - ("/" + RuntimeFiles.GUEST_AGENT).length();

    private Directories() {}

    /**
     * {@code $XDG_DATA_HOME/vmrunner/<name>}, else {@code $HOME/.local/share/vmrunner/<name>}, else
     * {@code <current directory>/<name>}. As the XDG base directory specification says, empty and
     * relative values of the variables are ignored.
     */
    static Path defaultDataDir(Map<String, String> env, String name) {
        String xdg = absolute(env.get("XDG_DATA_HOME"));
        if (xdg != null) {
            return Path.of(xdg, APP, name);
        }
        String home = absolute(env.get("HOME"));
        if (home != null) {
            return Path.of(home, ".local", "share", APP, name);
        }
        return Path.of("").toAbsolutePath().resolve(name);
    }

    /**
     * {@code $XDG_RUNTIME_DIR/vmrunner/<name>}, else {@code /tmp/$USER/vmrunner/<name>}, else
     * {@code /tmp/vmrunner/<name>}.
     */
    static Path defaultRuntimeDir(Map<String, String> env, String name) {
        String xdg = absolute(env.get("XDG_RUNTIME_DIR"));
        if (xdg != null) {
            return Path.of(xdg, APP, name);
        }
        String user = env.get("USER");
        if (user != null && Check.name(user) == null) {
            return Path.of("/tmp", user, APP, name);
        }
        return Path.of("/tmp", APP, name);
    }

    /** A configured directory; a relative one is taken relative to {@code base}. */
    static Path configured(String value, Path base) {
        return base.resolve(value).normalize();
    }

    /** Whether the sockets that the runner and template share fit below {@code runtimeDir}. */
    static boolean fitsSockets(Path runtimeDir) {
        return runtimeDir.toString().getBytes(StandardCharsets.UTF_8).length
                <= MAX_RUNTIME_DIR_BYTES;
    }

    /** The directory against which relative paths in {@code configFile} are resolved. */
    static Path baseOf(Path configFile) {
        Path parent = configFile == null ? null : configFile.toAbsolutePath().getParent();
        return parent != null ? parent : Path.of("").toAbsolutePath();
    }

    private static String absolute(String value) {
        return value != null && value.startsWith("/") ? value : null;
    }
}
