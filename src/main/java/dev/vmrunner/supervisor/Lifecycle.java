package dev.vmrunner.supervisor;

import dev.vmrunner.kube.VmFacts;
import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.status.State;
import java.time.Instant;
import java.util.logging.Logger;

/**
 * What the loop knows of this run: its state (every move logged), its QEMU, the powerdown ladder,
 * the guest agent's watch, the last error, and the facts its exit code is decided from. Owned by
 * the loop thread; the status is published from it there.
 */
final class Lifecycle {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    final Instant runnerStarted = Instant.now();
    Ending ending = new Ending();
    private State state = State.STARTING;
    private Instant since = runnerStarted;

    /** When an earlier runner's QEMU was taken on; null for a QEMU this runner started. */
    Instant adoptedAt;

    ChildProcess qemu;
    PowerdownLadder ladder;
    GuestWatch guest;
    String lastError;

    /** Who hears the facts the status does not carry (Kubernetes Events). */
    VmFacts facts = VmFacts.NONE;

    State state() {
        return state;
    }

    Instant since() {
        return since;
    }

    /** Moves along the lifecycle ({@link State}), logging the move. */
    void moveTo(State next) {
        if (state == State.STOPPED) {
            // A late event (a reply or timer after everything ended) changes nothing any more.
            LOG.fine(() -> "Ignoring a move to " + next.label() + " after the VM stopped");
            return;
        }
        State previous = state;
        state = state.moveTo(next);
        since = Instant.now();
        LOG.fine(() -> "State " + previous.label() + " -> " + next.label());
    }

    /** The runner begins with the VM stopped ({@code vm.state: Stopped}): nothing is started. */
    void beginStopped() {
        if (state != State.STARTING || qemu != null) {
            throw new IllegalStateException(
                    "The VM can begin stopped only before anything started");
        }
        state = State.STOPPED;
        ending.stoppedBeforeRun = true;
    }

    /**
     * A fresh start of a stopped VM in the same runner (the one move out of STOPPED): the facts of
     * the run before are dropped; the last error is kept for the status.
     */
    void restart() {
        state = state.moveTo(State.STARTING);
        since = Instant.now();
        ending = new Ending();
        adoptedAt = null;
        qemu = null;
        ladder = null;
        guest = null;
        LOG.fine("State stopped -> starting");
    }

    /** The VM is being stopped, by whatever route: TERMINATING, unless it is already. */
    void terminating() {
        if (state != State.TERMINATING) {
            moveTo(State.TERMINATING);
        }
    }

    /** Logs an error and keeps it for the status. */
    void error(String message) {
        LOG.severe(message);
        lastError = message;
    }
}
