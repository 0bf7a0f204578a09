package dev.vmrunner.launch;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A started helper or QEMU process. The supervisor sees children only through this. */
public interface ChildProcess {

    String name();

    long pid();

    boolean isAlive();

    /** Completes when the process has exited (and its output has been logged). */
    CompletableFuture<ChildProcess> onExit();

    /** Exit code, 128 + signal number when killed by a signal; only valid after exit. */
    int exitCode();

    /**
     * False for a process the runner did not start (an adopted QEMU): its exit status goes to its
     * own parent, and {@link #exitCode()} means nothing.
     */
    default boolean exitStatusKnown() {
        return true;
    }

    /** Asks the process, and the processes it started, to end (SIGTERM). */
    void terminate();

    /** Ends the process, and the processes it started, at once (SIGKILL). */
    void kill();

    /** The last lines the process printed, for error messages. */
    List<String> lastOutput();

    /** Starts child processes. Tests may substitute their own. */
    @FunctionalInterface
    interface Starter {
        ChildProcess start(ProcessSpec spec) throws LaunchException;
    }
}
