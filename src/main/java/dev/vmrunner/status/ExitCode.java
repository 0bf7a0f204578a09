package dev.vmrunner.status;

/**
 * Every exit code of vmrunner, in one place. 0 to 6 say how a runner ended (decided once, from what
 * happened to the run), as do 10 and 11 (a live migration's source and target); 7 to 9 and 12 to 14
 * are the answers of the client commands ({@code status}, {@code console}, {@code migrate}, {@code
 * start}, {@code stop}, {@code reset}) about a runner. A service manager must see a graceful stop
 * as success, so every clean guest power-off is 0, whether the guest chose it or the runner asked
 * for it.
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
    ALREADY_RUNNING(6),
    /** {@code status}, {@code console}: no runner runs this VM (or, console: it has no console). */
    NOT_RUNNING(7),
    /** {@code status --ready}: a runner answers, but the VM is not running (starting, stopping). */
    NOT_READY(8),
    /** {@code console}: another {@code vmrunner console} is attached. */
    CONSOLE_BUSY(9),
    /**
     * The source runner of a live migration: the guest runs on the target now; QEMU here was ended
     * without the power button.
     */
    MIGRATED(10),
    /**
     * A target runner ({@code --incoming}): no guest arrived (the source gave up, was cancelled or
     * disappeared, or the stream did not fit); it ran nowhere here, nothing is left behind.
     */
    INCOMING_FAILED(11),
    /** {@code migrate}: the migration failed or was refused; the guest runs on at the source. */
    MIGRATION_FAILED(12),
    /** {@code migrate}: the migration was cancelled; the guest runs on at the source. */
    MIGRATION_CANCELLED(13),
    /**
     * {@code start}, {@code stop}, {@code reset}: the runner answered but refused, with its reason
     * (a reset while the VM does not run, a start while the runner is ending).
     */
    REFUSED(14);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
