package dev.vmrunner.supervisor;

import java.time.Duration;
import java.util.logging.Logger;

/**
 * The graceful stop: press the power button, press it again at intervals (a guest that is still
 * booting, or Windows, ignores the first press), wait until QEMU exits but at most {@code
 * powerdownTimeout} from the first signal, then terminate QEMU (SIGTERM), then kill it (SIGKILL)
 * after a grace period. Runs on the supervisor's loop; QEMU's exit ends it.
 */
final class PowerdownLadder {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** What the ladder does to QEMU, one method per rung. */
    interface Rungs {
        void pressPowerButton();

        void terminateQemu();

        void killQemu();
    }

    private final Loop loop;
    private final Rungs rungs;
    private final Duration repressInterval;
    private final Duration killGrace;
    private final long startedNanos;
    private Duration timeout;
    private Loop.Timer deadline;
    private Loop.Timer repress;
    private boolean escalated;

    PowerdownLadder(
            Loop loop,
            Rungs rungs,
            Duration timeout,
            Duration repressInterval,
            Duration killGrace) {
        this.loop = loop;
        this.rungs = rungs;
        this.timeout = timeout;
        this.repressInterval = repressInterval;
        this.killGrace = killGrace;
        this.startedNanos = loop.clock().nanoTime();
    }

    void start() {
        LOG.info(() -> "Powering the guest down (waiting up to " + timeout.toSeconds() + " s)");
        // Timers first: a press that fails must lose neither the deadline nor the next press.
        armDeadline();
        press();
    }

    /**
     * A further stop request. It never shortens the wait (the guest may be writing its disks); it
     * presses the button again and says how long the wait still is.
     */
    void again() {
        if (escalated) {
            LOG.info("Already terminating QEMU");
            return;
        }
        LOG.info(
                () ->
                        "Still waiting for the guest to power off, "
                                + remaining().toSeconds()
                                + " s left; lower vm.powerdownTimeout in the configuration to"
                                + " shorten the wait");
        rungs.pressPowerButton();
    }

    /** A changed powerdownTimeout, effective at once; still measured from the first signal. */
    void setTimeout(Duration newTimeout) {
        timeout = newTimeout;
        if (!escalated) {
            LOG.info(
                    () ->
                            "powerdownTimeout is now "
                                    + newTimeout.toSeconds()
                                    + " s, "
                                    + remaining().toSeconds()
                                    + " s left");
            armDeadline();
        }
    }

    boolean escalated() {
        return escalated;
    }

    /** Stops all timers; QEMU is gone. */
    void finish() {
        cancel(deadline);
        cancel(repress);
    }

    /** The next press is scheduled first: a press that fails must not end the repeats. */
    private void press() {
        repress = loop.schedule(repressInterval, this::press);
        rungs.pressPowerButton();
    }

    private void armDeadline() {
        cancel(deadline);
        deadline = loop.schedule(remaining(), this::escalate);
    }

    private void escalate() {
        escalated = true;
        cancel(repress);
        LOG.warning(
                () ->
                        "The guest did not power off within "
                                + timeout.toSeconds()
                                + " s; terminating QEMU");
        rungs.terminateQemu();
        loop.schedule(
                killGrace,
                () -> {
                    LOG.warning(
                            () ->
                                    "QEMU did not exit within "
                                            + killGrace.toSeconds()
                                            + " s of SIGTERM; killing it");
                    rungs.killQemu();
                });
    }

    /** How long the guest still has before QEMU is terminated. */
    Duration remaining() {
        Duration elapsed = Duration.ofNanos(loop.clock().nanoTime() - startedNanos);
        Duration left = timeout.minus(elapsed);
        return left.isNegative() ? Duration.ZERO : left;
    }

    private static void cancel(Loop.Timer timer) {
        if (timer != null) {
            timer.cancel();
        }
    }
}
