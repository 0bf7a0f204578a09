package dev.vmrunner.supervisor.power;

import dev.vmrunner.status.Status;

/**
 * Where the VM is meant to be: the file's {@code vm.state}, overridden by the last edge (a command,
 * or a guest power-off under {@code guestShutdownStops}) until the file's {@code vm.state} changes;
 * and, once a run of the VM has ended, what follows: the runner ends, stays with the VM stopped, or
 * starts it again. Pure; owned by the supervisor's loop.
 */
public final class PowerIntent {

    /** What follows the end of a run. */
    public enum Next {
        /** The runner ends, with the run's exit code. */
        EXIT,
        /** The runner stays up, the VM stopped. */
        STAY_STOPPED,
        /** The VM is started again at once (a start was asked while it was stopping). */
        START_AGAIN
    }

    /**
     * How a run ended, as far as what follows depends on it.
     *
     * @param exitAsked SIGTERM or SIGINT arrived: the runner ends, whatever else holds
     * @param powerAsked a stop or start was asked during the run (a command or a {@code vm.state}
     *     edit): the VM goes where it is meant to be
     * @param guestPoweredOffByItself the guest powered off without the runner asking
     * @param guestShutdownStops the configuration's {@code guestShutdownStops}
     */
    public record RunEnd(
            boolean exitAsked,
            boolean powerAsked,
            boolean guestPoweredOffByItself,
            boolean guestShutdownStops) {}

    private boolean fileRuns;
    private Boolean edge;

    /**
     * @param fileRuns whether the file's {@code vm.state} says {@code Running}
     */
    public PowerIntent(boolean fileRuns) {
        this.fileRuns = fileRuns;
    }

    /**
     * The file's {@code vm.state}, read after each accepted edit. Returns true when it changed:
     * that ends the edge, and the VM is to go where the file says.
     */
    public boolean fileSays(boolean runs) {
        if (runs == fileRuns) {
            return false;
        }
        fileRuns = runs;
        edge = null;
        return true;
    }

    /** A command: the VM is to run (start) or to be stopped (stop), until the file changes. */
    public void commanded(boolean runs) {
        edge = runs == fileRuns ? null : runs;
    }

    public boolean meantToRun() {
        return edge != null ? edge : fileRuns;
    }

    /** Whether a command (or a guest power-off) overrides the file now. */
    public boolean overridden() {
        return edge != null;
    }

    /** {@link Status#RUNNING} or {@link Status#STOPPED}, for the status. */
    public String label() {
        return meantToRun() ? Status.RUNNING : Status.STOPPED;
    }

    /**
     * What follows a run that has ended: decided once per run. A guest that powered off by itself
     * under {@code guestShutdownStops} becomes an edge (stopped until {@code start} or a {@code
     * vm.state} edit); without it, and after any other end of a VM meant to run, the runner ends as
     * it always did (a restart policy starts it again).
     */
    public Next afterRun(RunEnd end) {
        if (end.exitAsked()) {
            return Next.EXIT;
        }
        if (!meantToRun()) {
            return Next.STAY_STOPPED;
        }
        if (end.powerAsked()) {
            return Next.START_AGAIN;
        }
        if (end.guestPoweredOffByItself() && end.guestShutdownStops()) {
            commanded(false);
            return Next.STAY_STOPPED;
        }
        return Next.EXIT;
    }
}
