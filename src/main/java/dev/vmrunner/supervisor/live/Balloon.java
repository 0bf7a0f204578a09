package dev.vmrunner.supervisor.live;

import dev.vmrunner.config.Sizes;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.supervisor.live.Outcome.Applied;
import dev.vmrunner.supervisor.live.Outcome.Rejected;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The balloon target ({@code vm.currentRam}): set with {@code balloon}, then, once QEMU's {@code
 * BALLOON_CHANGE} events stop, one line says where the guest's memory ended up. A change's outcome
 * goes to the {@code done} its call was given. Loop thread only.
 */
final class Balloon {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /**
     * The balloon is settled when QEMU reports no change for this long. QEMU sends at most one
     * BALLOON_CHANGE per second, so this must be well above a second.
     */
    private static final Duration SETTLE = Duration.ofMillis(2500);

    private final LiveLoop loop;
    private final LongSupplier wanted;
    private LiveLoop.Timer settle;
    private Qmp qmp;

    /**
     * @param wanted the target the configuration asks for now
     */
    Balloon(LiveLoop loop, LongSupplier wanted) {
        this.loop = loop;
        this.wanted = wanted;
    }

    void set(Qmp qmp, long bytes, Consumer<Outcome> done) {
        this.qmp = qmp;
        loop.whenDone(
                qmp.setBalloonTarget(bytes),
                (ok, error) -> {
                    done.accept(
                            error == null
                                    ? new Applied("balloon target " + Sizes.format(bytes))
                                    : Rejected.by(error));
                    if (error == null) {
                        watch();
                    }
                });
    }

    /** QEMU reported a change: while a new target is watched, it has not settled yet. */
    void moved() {
        if (settle != null) {
            watch();
        }
    }

    private void watch() {
        if (settle != null) {
            settle.cancel();
        }
        settle = loop.schedule(SETTLE, this::settled);
    }

    private void settled() {
        settle = null;
        // The last event may be a second old: ask QEMU for the current size.
        loop.whenDone(
                qmp.queryBalloon(),
                (actual, error) -> {
                    if (error == null) {
                        long asked = wanted.getAsLong();
                        LOG.info(
                                () ->
                                        "vm.currentRam: the balloon has settled, the guest has "
                                                + Sizes.format(actual)
                                                + (actual == asked
                                                        ? ""
                                                        : " (asked for "
                                                                + Sizes.format(asked)
                                                                + ")"));
                    }
                });
    }
}
