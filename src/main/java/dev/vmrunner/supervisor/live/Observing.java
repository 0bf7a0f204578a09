package dev.vmrunner.supervisor.live;

import dev.vmrunner.qmp.BlockInfo;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.reconcile.Observed;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Asks QEMU for its live-changeable state: the balloon ({@code query-balloon}), the vCPUs present
 * ({@code query-cpus-fast}) and the removable drives ({@code query-block}).
 */
final class Observing {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private Observing() {}

    /** {@code then} gets QEMU's state on the loop, or null when QEMU could not be asked. */
    static void ask(LiveLoop loop, Qmp qmp, Consumer<Observed> then) {
        CompletableFuture<Long> balloon =
                qmp.queryBalloon().exceptionally(error -> null); // no balloon device: nothing to do
        CompletableFuture<Integer> present = qmp.queryCpusFast().thenApply(List::size);
        CompletableFuture<List<BlockInfo>> blocks = qmp.queryBlock();
        loop.whenDone(
                CompletableFuture.allOf(balloon, present, blocks),
                (ok, error) -> {
                    if (error != null) {
                        LOG.warning(
                                () -> "Failed to query QEMU for its state: " + error.getMessage());
                        then.accept(null);
                        return;
                    }
                    Map<String, Observed.Cd> drives = new HashMap<>();
                    for (BlockInfo b : blocks.join()) {
                        if (b.qdevId() != null && b.removable()) {
                            drives.put(
                                    b.qdevId(),
                                    new Observed.Cd(
                                            b.file(),
                                            Boolean.TRUE.equals(b.trayOpen()),
                                            b.locked()));
                        }
                    }
                    then.accept(new Observed(balloon.join(), present.join(), drives));
                });
    }
}
