package dev.vmrunner.supervisor;

/**
 * How the runner ended. A service manager must see a graceful stop as success, so every clean guest
 * power-off is 0, whether the guest chose it or the runner asked for it.
 */
public enum ExitCode {
    /** The guest powered off cleanly (by itself or on SIGTERM), or was stopped before it ran. */
    CLEAN(0),
    /** An unexpected internal error of the runner. */
    INTERNAL(1),
    /** Bad command line or configuration; nothing was started. */
    CONFIG(2),
    /** A process could not be started or died while the VM was being started. */
    START_FAILURE(3),
    /** The guest did not power off within powerdownTimeout; QEMU was terminated. */
    POWERDOWN_TIMEOUT(4),
    /**
     * QEMU crashed, was killed, or exited with an error while the VM ran, or a process the VM needs
     * (swtpm) ended under it.
     */
    QEMU_FAILED(5),
    /**
     * The VM runs already: another runner has it, or a QEMU of it is left running without one.
     * Nothing was started, stopped or removed.
     */
    ALREADY_RUNNING(6);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
