package dev.vmrunner.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The runner's own user and group as {@code uid:gid}, for passt's {@code --runas}: started by root
 * without it, passt switches to {@code nobody} before it binds its socket, and nobody cannot create
 * it in the runner's private runtime directory. passt drops every capability either way.
 */
final class RunAs {
    /** Owned by the process's effective user and group. */
    private static final Path SELF = Path.of("/proc/self");

    private RunAs() {}

    static String current() {
        try {
            Object uid = Files.getAttribute(SELF, "unix:uid");
            Object gid = Files.getAttribute(SELF, "unix:gid");
            return uid + ":" + gid;
        } catch (IOException | UnsupportedOperationException e) {
            // No /proc (not Linux, where passt does not run anyway): the login name will do.
            return System.getProperty("user.name");
        }
    }
}
