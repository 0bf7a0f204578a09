package dev.vmrunner.status;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the runner knows about its VM at one moment: published by the supervisor's loop after every
 * event, immutable, so any thread may read it. The JSON form ({@link StatusJson}) is the contract
 * of {@code vmrunner status -o json} and of {@code GET /status}.
 *
 * @param name the VM's name
 * @param state {@code starting} (until QEMU runs the vCPUs), {@code incoming} (a migration's
 *     target, until the guest has arrived and the VM is taken over), {@code running}, {@code
 *     stopping}, {@code stopped}
 * @param since when the VM entered that state
 * @param runnerStarted when this runner started
 * @param adoptedAt when this runner adopted a QEMU it did not start, null when it started it
 * @param qemuPid QEMU's pid, null before it is started
 * @param swtpmPid swtpm's pid, null without a TPM
 * @param ram bytes: the maximum, the balloon target, and what the guest has (null until known)
 * @param cpus the maximum, the target, and the vCPUs QEMU has (null until known)
 * @param drives the CD drives
 * @param pending live changes that have not completed, one line each
 * @param needsRestart configuration keys whose change takes effect at the next start
 * @param lastChanges per key, the outcome of its last live change
 * @param powerdownDeadline while stopping: when QEMU is terminated if the guest has not powered off
 * @param lastError the last error the runner reported, null when none
 * @param guest what the guest agent said, null while it has not answered
 * @param display who may use the remote display, null when it has no password and no client was
 *     seen
 * @param rejectedEdit the configuration file's last content that the runner refused (it keeps its
 *     last good configuration), null when the file's last content was accepted
 * @param migration the live migration this runner takes part in, null when none ran
 * @param desiredState {@code running} or {@code stopped}: where the VM is meant to be ({@code
 *     vm.state}, or a command until the file's {@code vm.state} changes)
 */
public record Status(
        String name,
        String state,
        Instant since,
        Instant runnerStarted,
        Instant adoptedAt,
        Long qemuPid,
        Long swtpmPid,
        Ram ram,
        Cpus cpus,
        List<Drive> drives,
        List<String> pending,
        List<String> needsRestart,
        Map<String, String> lastChanges,
        Instant powerdownDeadline,
        String lastError,
        Guest guest,
        Display display,
        RejectedEdit rejectedEdit,
        MigrationStatus migration,
        String desiredState) {

    /** {@link #desiredState} of a VM that is meant to run. */
    public static final String RUNNING = "running";

    /** {@link #state} and {@link #desiredState} of a VM that is (meant to be) stopped. */
    public static final String STOPPED = "stopped";

    public Status {
        drives = List.copyOf(drives);
        pending = List.copyOf(pending);
        needsRestart = List.copyOf(needsRestart);
        lastChanges = Map.copyOf(lastChanges);
    }

    /** A status without a migration, of a VM meant to run. */
    @SuppressWarnings("TooManyParameters") // the record's own components, but the last
    public Status(
            String name,
            String state,
            Instant since,
            Instant runnerStarted,
            Instant adoptedAt,
            Long qemuPid,
            Long swtpmPid,
            Ram ram,
            Cpus cpus,
            List<Drive> drives,
            List<String> pending,
            List<String> needsRestart,
            Map<String, String> lastChanges,
            Instant powerdownDeadline,
            String lastError,
            Guest guest,
            Display display,
            RejectedEdit rejectedEdit) {
        this(
                name,
                state,
                since,
                runnerStarted,
                adoptedAt,
                qemuPid,
                swtpmPid,
                ram,
                cpus,
                drives,
                pending,
                needsRestart,
                lastChanges,
                powerdownDeadline,
                lastError,
                guest,
                display,
                rejectedEdit,
                null,
                RUNNING);
    }

    /** A status without display facts. */
    @SuppressWarnings("TooManyParameters") // the record's own components, but the last
    public Status(
            String name,
            String state,
            Instant since,
            Instant runnerStarted,
            Instant adoptedAt,
            Long qemuPid,
            Long swtpmPid,
            Ram ram,
            Cpus cpus,
            List<Drive> drives,
            List<String> pending,
            List<String> needsRestart,
            Map<String, String> lastChanges,
            Instant powerdownDeadline,
            String lastError,
            Guest guest) {
        this(
                name,
                state,
                since,
                runnerStarted,
                adoptedAt,
                qemuPid,
                swtpmPid,
                ram,
                cpus,
                drives,
                pending,
                needsRestart,
                lastChanges,
                powerdownDeadline,
                lastError,
                guest,
                null,
                null,
                null,
                RUNNING);
    }

    /**
     * An edit of the configuration file that the runner refused.
     *
     * @param at when the runner read it
     * @param problems why, each naming its line and key
     */
    public record RejectedEdit(Instant at, List<String> problems) {
        public RejectedEdit {
            problems = List.copyOf(problems);
        }
    }

    /** Memory in bytes. */
    public record Ram(long maximum, long target, Long actual) {}

    /** vCPU counts. */
    public record Cpus(int maximum, int target, Integer present) {}

    /**
     * A CD drive.
     *
     * @param id QEMU's device id (cd0, ...)
     * @param key the configuration key of its medium
     * @param medium the medium's file, null when empty
     * @param trayOpen null while unknown
     * @param locked whether the guest holds the tray locked (a mounted disc)
     * @param pending the medium a change waits to put in (empty string: to eject), null when none
     */
    public record Drive(
            String id,
            String key,
            String medium,
            Boolean trayOpen,
            boolean locked,
            String pending) {}

    /**
     * Facts from the guest agent.
     *
     * @param agentMisbehaving why the agent is disconnected for breaking a bound of its channel (a
     *     flood, an endless line, bytes that are not UTF-8, wrong ids), null while it behaves
     * @param agentDisconnects how often it was disconnected for that
     */
    public record Guest(
            boolean booted,
            Instant bootedAt,
            String os,
            String hostName,
            String timeZone,
            List<String> addresses,
            String agentMisbehaving,
            long agentDisconnects) {
        public Guest {
            addresses = addresses == null ? List.of() : List.copyOf(addresses);
        }

        /** Facts from an agent that behaves. */
        public Guest(
                boolean booted,
                Instant bootedAt,
                String os,
                String hostName,
                String timeZone,
                List<String> addresses) {
            this(booted, bootedAt, os, hostName, timeZone, addresses, null, 0);
        }
    }

    /**
     * The remote display (SPICE).
     *
     * @param passwordSet whether the runner has set a display password
     * @param passwordExpiry QEMU's expiry of it ({@code never}, {@code +SECONDS}, epoch seconds),
     *     null without a password
     * @param clients SPICE clients connected, null while unknown
     */
    public record Display(boolean passwordSet, String passwordExpiry, Integer clients) {}

    /**
     * True when the VM is where it is meant to be: its vCPUs run (until a stop begins), or it is
     * stopped on purpose ({@code vm.state: Stopped}, {@code vmrunner stop}, a guest power-off with
     * {@code guestShutdownStops}), so that a deliberately stopped VM makes an orchestrator restart
     * nothing and holds up no rolling update.
     */
    public boolean ready() {
        return "running".equals(state) || STOPPED.equals(state) && STOPPED.equals(desiredState);
    }
}
