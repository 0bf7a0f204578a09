package dev.vmrunner.supervisor.live;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.reconcile.LiveKey;
import dev.vmrunner.status.Status;
import dev.vmrunner.supervisor.live.Outcome.Applied;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.logging.Logger;

/**
 * What an edit of the configuration file is before anything is sent to QEMU: the new configuration
 * or a rejection, and the outcome of the keys the file alone decides.
 */
final class EditReader {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private EditReader() {}

    /**
     * The edited file's configuration, or null when it is invalid: then {@code ledger} shows the
     * rejection (and an accepted edit clears it), and the VM keeps the last good configuration.
     */
    static RunnerConfig read(
            byte[] content, Path file, Map<String, String> env, ChangeLedger ledger) {
        try {
            ConfigLoader.Loaded loaded = ConfigLoader.parseWithWarnings(content, file, env);
            loaded.warnings().forEach(LOG::warning);
            ledger.rejected = null;
            return loaded.config();
        } catch (ConfigException e) {
            ledger.rejected = new Status.RejectedEdit(Instant.now(), e.problems());
            LOG.warning(
                    () ->
                            "Ignoring the changed configuration, it is invalid (the VM keeps the"
                                    + " last good configuration):\n"
                                    + e.getMessage());
            return null;
        }
    }

    /**
     * The outcome of a key that takes effect by being read ({@code powerdownTimeout}, {@code
     * guestShutdownStops}, {@code vm.state}): applied, saying what it means now.
     */
    static Applied decidedByFile(LiveKey key, RunnerConfig next) {
        return switch (key) {
            case GUEST_SHUTDOWN_STOPS ->
                    new Applied(
                            next.guestShutdownStops()
                                    ? "a guest power-off leaves the VM stopped"
                                    : "a guest power-off ends the runner");
            case VM_STATE ->
                    new Applied(
                            next.vm().meantToRun()
                                    ? "the VM is to run"
                                    : "the VM is to be stopped, the runner stays");
            default -> Applied.PLAINLY;
        };
    }
}
