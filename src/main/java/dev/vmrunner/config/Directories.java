package dev.vmrunner.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Default and configured locations of the per-VM directories. Pure: computes paths, never touches
 * the file system.
 *
 * <p>For root the defaults are fixed, {@code /var/lib/vmrunner/NAME} and {@code /run/vmrunner/NAME}
 * (what the systemd unit's {@code StateDirectory=}/{@code RuntimeDirectory=} give), whatever the
 * environment: systemd's bare environment, a root shell (with {@code XDG_RUNTIME_DIR=/run/user/0})
 * and sudo must all find the same VM. Other users keep per-user directories (XDG).
 */
final class Directories {
    static final String APP = "vmrunner";

    /**
     * The entry of the environment map that holds the runner's effective uid ({@link
     * ConfigLoader#hostEnvironment()}); no shell can set a variable of this name.
     */
    static final String UID = "vmrunner:uid";

    /** Root's data directories, as the unit's {@code StateDirectory=vmrunner}. */
    static final Path ROOT_DATA = Path.of("/var/lib", APP);

    /** Root's runtime directories, as the unit's {@code RuntimeDirectory=vmrunner}. */
    static final Path ROOT_RUNTIME = Path.of("/run", APP);

    /**
     * The longest runtime directory that leaves room for the sockets of the runner/template
     * contract: Linux's {@code sun_path} holds 107 bytes plus NUL, and the longest socket name the
     * standard and the upstream templates put there is the guest agent's {@code
     * /org.qemu.guest_agent.0} (23 bytes).
     */
    static final int MAX_RUNTIME_DIR_BYTES = 107 - ("/" + RuntimeFiles.GUEST_AGENT).length();

    private Directories() {}

    /**
     * For root {@code /var/lib/vmrunner/<name>}; else {@code $XDG_DATA_HOME/vmrunner/<name>}, else
     * {@code $HOME/.local/share/vmrunner/<name>}, else {@code <current directory>/<name>}. As the
     * XDG base directory specification says, empty and relative values of the variables are
     * ignored.
     */
    static Path defaultDataDir(Map<String, String> env, String name) {
        if (isRoot(env)) {
            return ROOT_DATA.resolve(name);
        }
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
     * For root {@code /run/vmrunner/<name>}; else {@code $XDG_RUNTIME_DIR/vmrunner/<name>}, else
     * {@code /tmp/$USER/vmrunner/<name>}, else {@code /tmp/vmrunner/<name>}.
     */
    static Path defaultRuntimeDir(Map<String, String> env, String name) {
        if (isRoot(env)) {
            return ROOT_RUNTIME.resolve(name);
        }
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

    /**
     * Where a runner leaves a link from its configuration file to its runtime directory, so that
     * {@code status} finds it even when the file no longer parses: beside the default runtime
     * directories (a VM name cannot hold the {@code /} that would reach it).
     */
    static Path configLinks(Map<String, String> env) {
        return defaultRuntimeDir(env, "x").getParent().resolveSibling(APP + "-configs");
    }

    static boolean isRoot(Map<String, String> env) {
        return "0".equals(env.get(UID));
    }

    private static String absolute(String value) {
        return value != null && value.startsWith("/") ? value : null;
    }
}
