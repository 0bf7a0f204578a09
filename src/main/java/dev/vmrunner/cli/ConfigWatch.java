package dev.vmrunner.cli;

import dev.vmrunner.config.ConfigWatcher;
import dev.vmrunner.supervisor.Supervisor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The run's watch of its configuration file, started off the start path. */
final class ConfigWatch {

    private static final Logger LOG = Logger.getLogger("vmrunner");
    private static final Duration SETTLE = Duration.ofMillis(20);

    private ConfigWatch() {}

    /** {@link #watch} on a thread of its own; the future holds null when there is no watch. */
    static CompletableFuture<ConfigWatcher> beside(
            Path file, byte[] content, Supervisor supervisor) {
        CompletableFuture<ConfigWatcher> watcher = new CompletableFuture<>();
        Thread starter =
                new Thread(
                        () -> {
                            try {
                                watcher.complete(watch(file, content, supervisor));
                            } catch (RuntimeException | Error e) {
                                watcher.complete(null);
                                LOG.log(Level.WARNING, "Failed to watch " + file, e);
                            }
                        },
                        "config-watch-start");
        starter.setDaemon(true);
        starter.start();
        return watcher;
    }

    /** Changes of the file reach the VM; without a watch the VM still runs, unchanged. */
    private static ConfigWatcher watch(Path file, byte[] content, Supervisor supervisor) {
        try {
            return ConfigWatcher.start(file, content, supervisor::configFileChanged, SETTLE);
        } catch (IOException e) {
            LOG.warning(
                    () ->
                            "Failed to watch "
                                    + file
                                    + " for changes: "
                                    + e.getMessage()
                                    + "; changes will take effect at the next start");
            return null;
        }
    }
}
