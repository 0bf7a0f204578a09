package dev.vmrunner.supervisor;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.status.State;
import dev.vmrunner.supervisor.power.Answer;
import dev.vmrunner.supervisor.power.PowerCommand;
import dev.vmrunner.supervisor.power.PowerIntent;
import dev.vmrunner.supervisor.power.PowerIntent.Next;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Carries out {@link PowerIntent} on the loop: a {@code vm.state} edit or a command ({@code start},
 * {@code stop}, {@code stop --force}, {@code reset}) moves the VM, and when a run has ended (QEMU
 * and its helpers gone, {@link State#STOPPED}) it decides once whether the runner ends, stays with
 * the VM stopped, or starts it again afresh. A stopped VM has no process; a start is a fresh one
 * through {@code restart}, as the runner's first. Loop thread only, but {@link #command}.
 */
final class PowerControl {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** How long a command's client waits for the loop's answer (a reset waits for QEMU too). */
    private static final Duration ANSWER_WAIT = Duration.ofSeconds(10);

    private final Parts parts;
    private final Lifecycle life;
    private final Teardown teardown;
    private final String name;
    private final Runs runs;
    private final PowerIntent intent;

    /** SIGTERM or SIGINT came: the runner ends once the VM has stopped. */
    private boolean exitAsked;

    /** A stop or start was asked during this run: its end follows the intent. */
    private boolean powerAsked;

    /** The run has ended and the runner is to end. */
    private boolean exiting;

    /** What the supervisor does for a run, begun and over. */
    interface Runs {
        /** Starts the VM afresh from {@link State#STOPPED}; answers whether the start began. */
        Answer startAfresh();

        /** The run is over and the VM stays stopped: lets go of what followed the run. */
        void over();
    }

    PowerControl(RunnerConfig config, Parts parts, Teardown teardown, Runs runs) {
        this.parts = parts;
        this.life = parts.life();
        this.teardown = teardown;
        this.name = config.vm().name();
        this.runs = runs;
        this.intent = new PowerIntent(config.vm().meantToRun());
    }

    /** Before the run: true when the VM is to stay stopped (the runner waits). */
    boolean beginsStopped() {
        if (intent.meantToRun()) {
            return false;
        }
        life.beginStopped();
        LOG.info(
                () ->
                        "VM "
                                + name
                                + " is stopped (vm.state: Stopped); 'vmrunner start' or vm.state:"
                                + " Running starts it");
        return true;
    }

    /** Whether the loop is done: the VM has stopped and the runner is to end. */
    boolean finished() {
        return life.state() == State.STOPPED && exiting;
    }

    /** {@code running} or {@code stopped}, for the status. */
    String desired() {
        return intent.label();
    }

    /** SIGTERM or SIGINT: the runner ends once the VM has stopped (at once when it is). */
    void exitAsked() {
        exitAsked = true;
        if (life.state() == State.STOPPED) {
            exiting = true;
        }
    }

    /** After every event: a changed {@code vm.state} in the configuration moves the VM. */
    void followFile() {
        if (intent.fileSays(parts.live().current().vm().meantToRun())) {
            LOG.info(() -> "vm.state is now " + parts.live().current().vm().state());
            if (intent.meantToRun()) {
                life.facts.startRequested("vm.state: Running");
            } else {
                life.facts.stopRequested("vm.state: Stopped");
            }
            Answer moved = moveVm(false);
            if (moved.refused()) {
                life.error("Failed to follow vm.state: " + moved.text());
            }
        }
    }

    /** Moves the VM where it is meant to be: starts it when stopped, stops it when it may run. */
    private Answer moveVm(boolean force) {
        State state = life.state();
        if (intent.meantToRun()) {
            if (state == State.STOPPED) {
                return exiting ? Answer.refused("the runner is ending") : runs.startAfresh();
            }
            if (state == State.TERMINATING) {
                if (exitAsked) {
                    return Answer.refused("the runner is ending (SIGTERM): it does not start VMs");
                }
                powerAsked = true;
                return Answer.ok("VM " + name + " is stopping; it starts again once stopped");
            }
            return Answer.ok("VM " + name + " is " + publicLabel(state) + " already");
        }
        powerAsked = powerAsked || state != State.STOPPED;
        switch (state) {
            case STARTING -> {
                LOG.info("Stopping before the guest ran");
                life.ending.stoppedBeforeRun = true;
                teardown.terminateAll();
                return Answer.ok("VM " + name + " was starting; its start is ended");
            }
            case BOOTING, RUNNING -> {
                teardown.startPowerdown();
                return force ? forceStop() : Answer.ok(powerdownText());
            }
            case TERMINATING -> {
                return force ? forceStop() : Answer.ok("VM " + name + " is stopping already");
            }
            case STOPPED -> {
                return Answer.ok("VM " + name + " is stopped already");
            }
        }
        throw new IllegalStateException("unknown state " + state);
    }

    private Answer forceStop() {
        if (!teardown.forceStop()) {
            return Answer.ok("VM " + name + " is stopping already (its processes are ended)");
        }
        return Answer.ok("VM " + name + ": QEMU is terminated (SIGKILL after the grace period)");
    }

    private String powerdownText() {
        Duration left = life.ladder == null ? Duration.ZERO : life.ladder.remaining();
        return "VM "
                + name
                + " is stopping: the power button is pressed, QEMU is terminated if the guest has"
                + " not powered off in "
                + left.toSeconds()
                + " s";
    }

    private static String publicLabel(State state) {
        return state == State.RUNNING ? "running" : "starting";
    }

    /**
     * A request line from the status socket, on a client's thread: the answer line, or null when
     * the line is no power command. The loop decides; the client waits a bounded time.
     */
    String command(String line) {
        PowerCommand command = PowerCommand.parse(line);
        if (command == null) {
            return null;
        }
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        parts.loop().post(new Event.Continuation(() -> onCommand(command, answer::complete)));
        try {
            return answer.get(ANSWER_WAIT.toMillis(), TimeUnit.MILLISECONDS).line();
        } catch (TimeoutException e) {
            return Answer.refused(
                            "the runner did not answer within " + ANSWER_WAIT.toSeconds() + " s")
                    .line();
        } catch (ExecutionException e) {
            return Answer.refused("failed: " + e.getCause()).line();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Answer.refused("interrupted").line();
        }
    }

    /**
     * A command, on the loop: answered through {@code reply}, once; a bug on the way is answered
     * too (and logged by the loop), so the client does not wait for nothing.
     */
    @SuppressWarnings("CatchingUnchecked") // see above; the loop logs it
    private void onCommand(PowerCommand command, Consumer<Answer> reply) {
        try {
            carryOut(command, reply);
        } catch (RuntimeException e) {
            reply.accept(Answer.refused("internal error: " + e));
            throw e;
        }
    }

    private void carryOut(PowerCommand command, Consumer<Answer> reply) {
        LOG.info(() -> "Command '" + command.line() + "' (VM " + life.state().label() + ")");
        Answer answer;
        if (command instanceof PowerCommand.Start) {
            if (exitAsked) {
                answer = Answer.refused("the runner is ending (SIGTERM): it does not start VMs");
            } else {
                intent.commanded(true);
                life.facts.startRequested("vmrunner start");
                answer = moveVm(false);
            }
        } else if (command instanceof PowerCommand.Stop stop) {
            intent.commanded(false);
            life.facts.stopRequested("vmrunner " + command.line());
            answer = moveVm(stop.force());
        } else {
            life.facts.resetRequested("vmrunner reset");
            reset(reply);
            return;
        }
        Answer said = answer;
        LOG.info(() -> "Command '" + command.line() + "': " + said.line());
        reply.accept(answer);
    }

    private void reset(Consumer<Answer> reply) {
        Qmp qmp = parts.monitor().qmp();
        if (life.state() != State.RUNNING || qmp == null) {
            reply.accept(
                    Answer.refused(
                            "VM "
                                    + name
                                    + " is "
                                    + life.state().label()
                                    + (qmp == null ? " (no monitor connection)" : "")
                                    + ": only a running VM is reset"));
            return;
        }
        parts.loop()
                .whenDone(
                        qmp.systemReset(),
                        (ok, error) -> {
                            Answer answer =
                                    error == null
                                            ? Answer.ok("VM " + name + " was reset")
                                            : Answer.refused(
                                                    "Failed to reset the VM: "
                                                            + error.getMessage());
                            LOG.info(() -> "Command 'reset': " + answer.line());
                            reply.accept(answer);
                        });
    }

    /** The run has ended (STOPPED): the runner ends, stays, or starts the VM again. Once a run. */
    void runEnded() {
        Ending ending = life.ending;
        boolean byItself = ending.guestPoweredOff && life.ladder == null;
        Next next =
                intent.afterRun(
                        new PowerIntent.RunEnd(
                                exitAsked,
                                powerAsked,
                                byItself,
                                parts.live().current().guestShutdownStops()));
        powerAsked = false;
        if (next == Next.EXIT) {
            exiting = true;
            return;
        }
        LOG.info(
                () ->
                        "VM "
                                + name
                                + (byItself ? " was powered off by the guest" : " has stopped")
                                + " (run ended with "
                                + ending.exitCode()
                                + "); the runner stays: 'vmrunner start'"
                                + (intent.overridden() ? "" : " or vm.state: Running")
                                + " starts it");
        stayStopped();
        if (next == Next.START_AGAIN) {
            Answer started = runs.startAfresh();
            if (started.refused()) {
                life.error("Failed to start VM " + name + " again: " + started.text());
            }
        }
    }

    /** What a stopped VM keeps: nothing of its run but the facts; a SIGTERM now ends clean. */
    private void stayStopped() {
        life.ending = new Ending();
        life.ending.stoppedBeforeRun = true;
        life.ladder = null;
        life.qemu = null;
        if (life.guest != null) {
            life.guest.close();
            life.guest = null;
        }
        parts.display().close();
        runs.over();
    }
}
