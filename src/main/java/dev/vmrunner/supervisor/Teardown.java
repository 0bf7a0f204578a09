package dev.vmrunner.supervisor;

import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.VmEvent;
import dev.vmrunner.status.State;
import dev.vmrunner.supervisor.claim.RunnerState.Stopping;
import dev.vmrunner.supervisor.live.LiveConfig;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * How a run stops, and the one way to its end.
 *
 * <p>Stopping starts in one of four ways: the powerdown ladder for a guest that may run ({@link
 * #startPowerdown}: power button, wait, SIGTERM, SIGKILL), SIGTERM to every child for a start that
 * failed or was stopped before the guest ran ({@link #terminateAll}), {@code quit} for a QEMU whose
 * guest was migrated away ({@link #migratedAway}), or leaving alone a QEMU that could not be
 * adopted ({@link #leaveQemu}). QEMU may also end by itself (the guest powers off, QEMU crashes).
 * However it begins, the end takes one route, opened by the {@link QemuEnd} join and handled once,
 * by {@link #onQemuEnded}:
 *
 * <pre>
 *  step                      tears down                             holds when
 *  1 QemuEnd join            nothing                                QEMU's process is gone and its
 *                                                                   monitor closed or 500 ms passed;
 *                                                                   at once without a QEMU to wait for
 *  2 Event.QemuEnded         the ladder's timers (finish)           the join posted it, once
 *  3 the end reported        nothing; a QEMU gone while starting    QEMU's exit was seen
 *                            fails the start (SIGTERM to the rest)
 *  4 TERMINATING             nothing (status: stopping)             always (logged move)
 *  5 the monitor             the QMP connection, any reconnect      always
 *  6 the helpers             swtpm, passt, a one-shot left:        a child still runs
 *                            SIGTERM after helperStop, SIGKILL
 *                            after killGrace
 *  7 STOPPED                 the loop, once the last child is gone; always (logged move)
 *                            then Supervisor.run closes the display
 *                            watch, console tail, guest agent watch,
 *                            status servers, TPM staging and claim
 *  8 (staying)               instead of 7's closing: the guest       the VM is meant to stay
 *                            agent watch, display watch, console     stopped (PowerControl): the
 *                            tail; the runner waits, no process      loop goes on
 * </pre>
 *
 * How the run ended (its exit code) is decided once from the {@link Ending}'s facts, after step 7.
 * Loop thread only.
 */
final class Teardown {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** swtpm ends with QEMU; an exit seen just before QEMU's is not a failure. */
    private static final Duration HELPER_EXIT_GRACE = Duration.ofSeconds(1);

    private final Loop loop;
    private final Lifecycle life;
    private final Children children;
    private final MonitorLink monitor;
    private final LiveConfig live;
    private final Timeouts timeouts;
    private QemuEnd qemuEnd;
    private final Consumer<String> failStart;
    private Runnable stopped = () -> {};
    private boolean shutdownSeen;
    private Consumer<Stopping> keepStopping = stop -> {};

    Teardown(Parts parts, Timeouts timeouts, Consumer<String> failStart) {
        this.loop = parts.loop();
        this.life = parts.life();
        this.children = parts.children();
        this.monitor = parts.monitor();
        this.live = parts.live();
        this.timeouts = timeouts;
        this.failStart = failStart;
        this.qemuEnd = new QemuEnd(loop, monitor);
    }

    // ---- how stopping begins -------------------------------------------------------------

    /** SIGTERM or SIGINT: what a stop means depends on how far the VM is. */
    void stopAsked() {
        switch (life.state()) {
            case STARTING -> {
                LOG.info("Stopping before the guest ran");
                life.ending.stoppedBeforeRun = true;
                terminateAll();
            }
            case BOOTING, RUNNING -> startPowerdown();
            case TERMINATING -> {
                if (life.ladder != null) {
                    life.ladder.again();
                } else {
                    LOG.info("Already stopping");
                }
            }
            case STOPPED -> {}
        }
    }

    /** Runs once a run has reached {@link State#STOPPED} (what follows is decided there). */
    void onStopped(Runnable then) {
        stopped = then;
    }

    /** A fresh start in the same runner: the route to the end is open again. */
    void newRun() {
        qemuEnd = new QemuEnd(loop, monitor);
        shutdownSeen = false;
    }

    /**
     * {@code stop --force}: the ladder's last rungs at once. False when there is no ladder to climb
     * (a start being ended) or its last rungs were taken already.
     */
    boolean forceStop() {
        return life.ladder != null && life.ladder.escalateNow();
    }

    /** Where a powerdown's request and deadline are kept for a later runner, from now on. */
    void keepStopping(Consumer<Stopping> keep) {
        keepStopping = keep;
    }

    /** The graceful stop of a VM whose vCPUs may run: the power button, then the ladder. */
    void startPowerdown() {
        powerdown(null);
    }

    /** Goes on with the powerdown an earlier runner began, to its deadline. */
    void resumePowerdown(Stopping earlier) {
        powerdown(earlier);
    }

    private void powerdown(Stopping earlier) {
        if (life.ladder != null) {
            return;
        }
        life.terminating();
        live.onTerminating();
        if (life.guest != null) {
            life.guest.askPowerOff();
        }
        life.ladder =
                new PowerdownLadder(
                        loop,
                        new QemuRungs(),
                        earlier != null
                                ? earlier
                                : PowerdownLadder.askedNow(
                                        loop,
                                        Duration.ofSeconds(live.current().vm().powerdownTimeout())),
                        timeouts.powerdownRepress(),
                        timeouts.killGrace(),
                        stop -> keepStopping.accept(stop));
        if (earlier != null) {
            life.ladder.resume();
        } else {
            life.ladder.start();
        }
    }

    /**
     * Ends every child and its own children: SIGTERM now, SIGKILL after the grace period. Only
     * while the guest has not run (a start that failed or was stopped): no guest data at stake.
     */
    void terminateAll() {
        life.terminating();
        children.terminateAll();
        if (life.qemu == null) {
            qemuEnd.nothingToWaitFor();
        }
    }

    /**
     * The guest was migrated: the target has it, and QEMU here (paused, its disks let go) is ended
     * without the power button, by {@code quit}.
     */
    void migratedAway() {
        life.ending.migrated = true;
        life.terminating();
        live.onTerminating();
        Qmp qmp = monitor.qmp();
        if (qmp != null) {
            loop.whenDone(
                    qmp.quit(),
                    (ok, error) -> {
                        if (error != null && life.qemu.isAlive()) {
                            LOG.warning(() -> "Failed to end QEMU (quit): " + error.getMessage());
                            life.qemu.terminate();
                        }
                    });
        } else if (life.qemu.isAlive()) {
            life.qemu.terminate();
        }
    }

    /** A QEMU that could not be adopted is left as it was found: nothing of it to wait for. */
    void leaveQemu() {
        children.forgetAll();
        life.terminating();
        qemuEnd.nothingToWaitFor();
    }

    // ---- facts on the way to step 1 ------------------------------------------------------

    /** QEMU reported SHUTDOWN: whether the guest powered off decides the exit code. */
    void shutdownReported(VmEvent.Shutdown shutdown) {
        shutdownSeen = true;
        life.ending.guestPoweredOff = shutdown.guestPoweredOff();
    }

    /** QEMU's process has exited. */
    void qemuExited(ChildProcess qemu) {
        if (qemu.exitStatusKnown()) {
            life.ending.qemuExit = OptionalInt.of(qemu.exitCode());
        }
        qemuEnd.processGone();
    }

    /** A monitor connection closed after QEMU's exit was seen. */
    void monitorClosed() {
        qemuEnd.monitorClosed();
    }

    /**
     * A helper (swtpm, passt) ended on its own while the VM may run; QEMU's exit may follow at
     * once.
     */
    void helperExited(ChildProcess child, int code) {
        loop.schedule(HELPER_EXIT_GRACE, () -> helperEnded(child, code));
    }

    private void helperEnded(ChildProcess child, int code) {
        if (shutdownSeen
                || !children.isCurrent(child)
                || life.qemu == null
                || children.hasExited(life.qemu)
                || life.state() == State.TERMINATING
                || life.state() == State.STOPPED) {
            return;
        }
        life.error(
                Children.describeExit(child, code)
                        + " while the VM runs; the guest has lost its "
                        + ("passt".equals(child.name()) ? "network" : "TPM")
                        + ", so the VM is powered down"
                        + Children.lastWords(child));
        life.ending.helperFailed = true;
        startPowerdown();
    }

    // ---- the route: steps 2 to 7 ---------------------------------------------------------

    /** Step 2 on: the one handler of the end, run once (see the table above). */
    void onQemuEnded() {
        if (life.ladder != null) {
            life.ladder.finish();
        }
        ChildProcess qemu = life.qemu;
        if (qemu != null && children.hasExited(qemu)) {
            report(qemu);
        }
        life.terminating();
        monitor.close();
        if (!children.allExited()) {
            // swtpm and passt end by themselves when QEMU is gone (--terminate, --one-off); else
            // they are asked to.
            children.terminateAllAfter(timeouts.helperStop());
        }
        children.whenAllExited(
                () -> {
                    life.moveTo(State.STOPPED);
                    stopped.run();
                });
    }

    private void report(ChildProcess qemu) {
        int code = qemu.exitCode();
        Ending ending = life.ending;
        if (life.state() == State.STARTING) {
            failStart.accept(
                    Children.describeExit(qemu, code) + " during start" + Children.lastWords(qemu));
        } else if (ending.migrated) {
            LOG.info("QEMU ended here: the guest runs on the migration's target");
        } else if (ending.escalated || ending.stoppedBeforeRun || ending.startFailed) {
            LOG.fine(() -> Children.describeExit(qemu, code));
        } else if (ending.guestPoweredOff && (code == 0 || !qemu.exitStatusKnown())) {
            LOG.info(() -> "The guest powered off" + (life.ladder != null ? " as asked" : ""));
            life.facts.poweredOff(life.ladder != null);
        } else {
            life.error(
                    Children.describeExit(qemu, code) + " unexpectedly" + Children.lastWords(qemu));
        }
    }

    /**
     * After the loop: only a QEMU that is gone lets the runner end its helpers; a QEMU still alive
     * here (the loop was interrupted) is left running rather than killed without a powerdown.
     */
    void endLeftovers() {
        ChildProcess qemu = life.qemu;
        if (qemu != null && qemu.isAlive()) {
            LOG.severe(
                    () ->
                            "QEMU (pid "
                                    + qemu.pid()
                                    + ") is left running: the runner ends without having stopped"
                                    + " it");
            return;
        }
        children.killLeftovers();
    }

    /** The ladder's rungs, applied to the QEMU of its run (never to one a fresh start made). */
    private final class QemuRungs implements PowerdownLadder.Rungs {
        private final ChildProcess qemu = life.qemu;

        @Override
        public void pressPowerButton() {
            Qmp qmp = monitor.qmp();
            if (qmp == null || !monitor.isOpen()) {
                LOG.warning("Cannot press the power button: not connected to QEMU's monitor");
                return;
            }
            loop.whenDone(
                    qmp.systemPowerdown(),
                    (ok, error) -> {
                        if (error != null) {
                            LOG.warning(
                                    () ->
                                            "Failed to press the power button: "
                                                    + error.getMessage());
                        }
                    });
        }

        @Override
        public void terminateQemu() {
            life.ending.escalated = true;
            if (qemu.isAlive()) {
                qemu.terminate();
            }
        }

        @Override
        public void killQemu() {
            if (qemu.isAlive()) {
                qemu.kill();
            }
        }
    }
}
