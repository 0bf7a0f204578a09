package dev.vmrunner.supervisor;

import dev.vmrunner.supervisor.claim.RunnerState.Stopping;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The graceful stop: press the power button, press it again at intervals (a guest that is still
 * booting, or Windows, ignores the first press), wait until QEMU exits but at most {@code
 * powerdownTimeout} from the first signal, then terminate QEMU (SIGTERM), then kill it (SIGKILL)
 * after a grace period. Runs on the supervisor's loop; QEMU's exit ends it.
 *
 * <p>The request and its deadline ({@link Stopping}, wall-clock) are handed to {@code keep} when
 * the ladder begins and whenever the deadline moves, so that a runner started after this one died
 * {@link #resume resumes} the ladder with the same deadline.
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
    private final Consumer<Stopping> keep;
    private Stopping stop;
    private Duration timeout;
    private Loop.Timer deadline;
    private Loop.Timer repress;
    private boolean escalated;

    /**
     * @param stop when the stop was asked and its deadline: now, or by an earlier runner
     * @param keep is handed the stop at the start and whenever its deadline moves
     */
    PowerdownLadder(
            Loop loop,
            Rungs rungs,
            Stopping stop,
            Duration repressInterval,
            Duration killGrace,
            Consumer<Stopping> keep) {
        this.loop = loop;
        this.rungs = rungs;
        this.stop = stop;
        this.timeout = stop.timeout();
        this.repressInterval = repressInterval;
        this.killGrace = killGrace;
        this.keep = keep;
        // Measured on the monotonic clock from here on; the wall clock only says how far it was.
        this.startedNanos =
                loop.clock().nanoTime() - stop.elapsed(loop.clock().wallMillis()).toNanos();
    }

    /** A stop asked now, with {@code timeout} to wait. */
    static Stopping askedNow(Loop loop, Duration timeout) {
        return Stopping.asked(loop.clock().wallMillis(), timeout);
    }

    void start() {
        keep.accept(stop);
        LOG.info(() -> "Powering the guest down (waiting up to " + timeout.toSeconds() + " s)");
        // Timers first: a press that fails must lose neither the deadline nor the next press.
        armDeadline();
        press();
    }

    /**
     * Goes on with a ladder an earlier runner began: the same deadline, the button pressed again at
     * the usual interval; a deadline already past terminates QEMU at once.
     */
    void resume() {
        keep.accept(stop);
        if (remaining().isZero()) {
            escalate();
            return;
        }
        armDeadline();
        repress = loop.schedule(repressInterval, this::press);
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
            stop = stop.withTimeout(newTimeout);
            keep.accept(stop);
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

    /**
     * The last rungs at once ({@code vmrunner stop --force}, for a hung guest): QEMU is terminated,
     * then killed after the grace. False when they were already taken.
     */
    boolean escalateNow() {
        if (escalated) {
            return false;
        }
        cancel(deadline);
        LOG.warning("Forced stop: terminating QEMU without waiting for the guest");
        escalated = true;
        cancel(repress);
        terminateThenKill();
        return true;
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
        terminateThenKill();
    }

    private void terminateThenKill() {
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
