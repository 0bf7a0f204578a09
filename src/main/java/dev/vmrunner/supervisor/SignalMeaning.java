package dev.vmrunner.supervisor;

import java.util.List;

/**
 * What each signal the runner catches means. None of them ends the runner at once, and none orphans
 * QEMU: a runner that died of a signal would leave QEMU running with nobody to power it down.
 *
 * <ul>
 *   <li>TERM, INT: stop the VM gracefully (the power button, then the shutdown ladder).
 *   <li>HUP: what daemons do: read the configuration file again now (a closed terminal or an ssh
 *       logout sends it too, and must not stop the VM).
 *   <li>USR1, USR2: log one status line.
 *   <li>Other catchable terminating signals (ALRM, VTALRM, PROF, IO, PWR, STKFLT, XCPU, XFSZ):
 *       logged and ignored.
 * </ul>
 *
 * QUIT keeps the JVM's meaning (a thread dump on stderr), PIPE is ignored by the JVM; KILL and STOP
 * cannot be caught. HotSpot uses USR2 for its own thread suspension unless the launcher moves that
 * to another signal ({@code _JAVA_SR_SIGNUM}, see bin/vmrunner).
 */
public enum SignalMeaning {
    STOP,
    RELOAD,
    REPORT,
    IGNORE;

    /** Every signal the runner handles, by name without SIG. */
    public static final List<String> HANDLED =
            List.of(
                    "TERM", "INT", "HUP", "USR1", "USR2", "ALRM", "VTALRM", "PROF", "IO", "PWR",
                    "STKFLT", "XCPU", "XFSZ");

    public static SignalMeaning of(String name) {
        return switch (name) {
            case "TERM", "INT" -> STOP;
            case "HUP" -> RELOAD;
            case "USR1", "USR2" -> REPORT;
            default -> IGNORE;
        };
    }
}
