package dev.vmrunner.status;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The runner's lifecycle.
 *
 * <pre>
 *   STARTING ──cont sent──▶ BOOTING ──QEMU runs vCPUs──▶ RUNNING
 *      │                       │                           │
 *      └──signal, failure, ────┴──── QEMU exited ──────────┘
 *         QEMU exited             or signal
 *                                  │
 *                                  ▼
 *                             TERMINATING ──all children gone──▶ STOPPED
 *                                                                   │
 *      STARTING ◀──── a fresh start in the same runner ─────────────┘
 * </pre>
 *
 * STARTING: helpers and QEMU (paused) are started and QMP is negotiated. BOOTING: the runner has
 * sent {@code cont}. RUNNING: QEMU confirmed that the vCPUs run. TERMINATING: the guest is being
 * powered down, or the children are being stopped. STOPPED: nothing of the VM runs; the runner
 * ends, or stays while the VM is meant to be stopped ({@code vm.state: Stopped}, {@code vmrunner
 * stop}, {@code guestShutdownStops}) and may start it again. A runner may also begin in STOPPED.
 */
public enum State {
    STARTING,
    BOOTING,
    RUNNING,
    TERMINATING,
    STOPPED;

    private Set<State> next() {
        return switch (this) {
            case STARTING -> EnumSet.of(BOOTING, TERMINATING);
            case BOOTING -> EnumSet.of(RUNNING, TERMINATING);
            case RUNNING -> EnumSet.of(TERMINATING);
            case TERMINATING -> EnumSet.of(STOPPED);
            case STOPPED -> EnumSet.of(STARTING);
        };
    }

    /**
     * Returns the next state after checking that the move is allowed.
     *
     * @throws IllegalStateException for a move the diagram does not have
     */
    public State moveTo(State target) {
        if (!next().contains(target)) {
            throw new IllegalStateException("Illegal lifecycle move " + this + " -> " + target);
        }
        return target;
    }

    /** The lower-case name used in logs and status output. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
