package dev.vmrunner.status;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The status and the runner's counters in the Prometheus text exposition format 0.0.4, for {@code
 * GET /metrics}. Names follow Prometheus' conventions: the {@code vmrunner_} prefix, base units in
 * the name ({@code _bytes}, {@code _seconds}), {@code _total} for counters, {@code _info} for facts
 * carried in labels. A figure that is not known yet is left out rather than given as 0.
 */
public final class Metrics {

    /** The content type of the text format. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** The states {@code vmrunner_vm_state} has a series for, one of them 1. */
    static final List<String> STATES =
            List.of("starting", "incoming", "running", "stopping", "stopped");

    /** Label values from the guest are cut to this many characters. */
    private static final int MAX_LABEL = 128;

    /** One QMP command's figures: completed calls, their total seconds, failed calls. */
    public record Command(long count, double seconds, long errors) {}

    /**
     * What the status does not hold.
     *
     * @param qmp by QMP command name
     * @param reconciliations live changes by outcome
     */
    public record Counters(
            Map<String, Command> qmp,
            Map<String, Long> reconciliations,
            Map<String, Long> eventsMerged) {
        public Counters {
            qmp = Map.copyOf(qmp);
            reconciliations = Map.copyOf(reconciliations);
            eventsMerged = Map.copyOf(eventsMerged);
        }

        public Counters(Map<String, Command> qmp, Map<String, Long> reconciliations) {
            this(qmp, reconciliations, Map.of());
        }
    }

    private final StringBuilder out = new StringBuilder(4096);

    private Metrics() {}

    /** The metrics text at {@code now}. */
    public static String render(Status s, Counters counters, Instant now) {
        Metrics m = new Metrics();
        m.vm(s, now);
        m.resources(s);
        m.qmp(counters.qmp());
        m.counter(
                "vmrunner_reconciliations_total",
                "Live configuration changes by outcome.",
                "outcome",
                counters.reconciliations());
        m.counter(
                "vmrunner_qmp_events_merged_total",
                "Guest-driven QMP events merged into a later one (a storm).",
                "event",
                counters.eventsMerged());
        m.guest(s.guest());
        m.rejectedEdit(s.rejectedEdit());
        m.migration(s.migration());
        return m.out.toString();
    }

    private void vm(Status s, Instant now) {
        family("vmrunner_vm_info", "gauge", "The VM this runner supervises, in the labels.");
        sample("vmrunner_vm_info", labels("name", s.name()), 1);
        family("vmrunner_vm_state", "gauge", "1 for the VM's lifecycle state, 0 for the others.");
        for (String state : STATES) {
            sample("vmrunner_vm_state", labels("state", state), state.equals(s.state()) ? 1 : 0);
        }
        family(
                "vmrunner_vm_desired_state",
                "gauge",
                "1 for where the VM is meant to be (vm.state, or a command), 0 for the other.");
        for (String state : List.of(Status.RUNNING, Status.STOPPED)) {
            sample(
                    "vmrunner_vm_desired_state",
                    labels("state", state),
                    state.equals(s.desiredState()) ? 1 : 0);
        }
        family(
                "vmrunner_vm_ready",
                "gauge",
                "1 when the VM is where it is meant to be: running, or stopped on purpose.");
        sample("vmrunner_vm_ready", "", s.ready() ? 1 : 0);
        family("vmrunner_runner_uptime_seconds", "gauge", "Seconds since this runner started.");
        sample("vmrunner_runner_uptime_seconds", "", seconds(s.runnerStarted(), now));
        if ("running".equals(s.state())) {
            family(
                    "vmrunner_vm_uptime_seconds",
                    "gauge",
                    "Seconds since QEMU started running the vCPUs (while running).");
            sample("vmrunner_vm_uptime_seconds", "", seconds(s.since(), now));
        }
        family(
                "vmrunner_vm_adopted",
                "gauge",
                "1 when this runner adopted a QEMU that an earlier runner started.");
        sample("vmrunner_vm_adopted", "", s.adoptedAt() != null ? 1 : 0);
        family(
                "vmrunner_powerdown_in_progress",
                "gauge",
                "1 while the runner waits for the guest to power off.");
        sample("vmrunner_powerdown_in_progress", "", s.powerdownDeadline() != null ? 1 : 0);
    }

    private void resources(Status s) {
        gauge("vmrunner_ram_maximum_bytes", "The VM's maximum RAM.", (double) s.ram().maximum());
        gauge("vmrunner_ram_target_bytes", "The balloon target.", (double) s.ram().target());
        if (s.ram().actual() != null) {
            gauge("vmrunner_ram_actual_bytes", "The RAM the guest has.", s.ram().actual());
        }
        gauge("vmrunner_vcpus_maximum", "The VM's maximum vCPUs.", s.cpus().maximum());
        gauge("vmrunner_vcpus_target", "The vCPUs the configuration asks for.", s.cpus().target());
        if (s.cpus().present() != null) {
            gauge("vmrunner_vcpus_present", "The vCPUs QEMU has.", s.cpus().present());
        }
    }

    private void qmp(Map<String, Command> commands) {
        String name = "vmrunner_qmp_command_duration_seconds";
        family(name, "summary", "Time from sending a QMP command to its reply, per command.");
        commands.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(
                        e -> {
                            String l = labels("command", e.getKey());
                            sample(name + "_sum", l, e.getValue().seconds());
                            sample(name + "_count", l, (double) e.getValue().count());
                        });
        family(
                "vmrunner_qmp_command_errors_total",
                "counter",
                "QMP commands that failed: an error reply, no reply in time, or a lost"
                        + " connection.");
        commands.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(
                        e ->
                                sample(
                                        "vmrunner_qmp_command_errors_total",
                                        labels("command", e.getKey()),
                                        (double) e.getValue().errors()));
    }

    /** A counter with one series per value of {@code label}. */
    private void counter(String name, String help, String label, Map<String, Long> byValue) {
        family(name, "counter", help);
        byValue.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(e -> sample(name, labels(label, e.getKey()), e.getValue()));
    }

    private void guest(Status.Guest guest) {
        family(
                "vmrunner_guest_booted",
                "gauge",
                "1 once the guest agent reports that the guest has booted.");
        sample("vmrunner_guest_booted", "", guest != null && guest.booted() ? 1 : 0);
        family(
                "vmrunner_guest_agent_misbehaving",
                "gauge",
                "1 while the guest agent is disconnected for breaking a bound of its channel.");
        sample(
                "vmrunner_guest_agent_misbehaving",
                "",
                guest != null && guest.agentMisbehaving() != null ? 1 : 0);
        family(
                "vmrunner_guest_agent_disconnects_total",
                "counter",
                "Times the guest agent was disconnected for breaking a bound of its channel.");
        sample(
                "vmrunner_guest_agent_disconnects_total",
                "",
                guest == null ? 0 : (double) guest.agentDisconnects());
        if (guest != null) {
            family("vmrunner_guest_info", "gauge", "What the guest agent says, in the labels.");
            sample(
                    "vmrunner_guest_info",
                    labels("os", orEmpty(guest.os()), "hostname", orEmpty(guest.hostName())),
                    1);
        }
    }

    private void rejectedEdit(Status.RejectedEdit rejected) {
        family(
                "vmrunner_config_rejected",
                "gauge",
                "1 while the configuration file holds an edit the runner refused (it keeps its last"
                        + " good configuration); the first problem in the label.");
        if (rejected == null) {
            sample("vmrunner_config_rejected", "", 0);
            return;
        }
        sample(
                "vmrunner_config_rejected",
                labels("problem", rejected.problems().isEmpty() ? "" : rejected.problems().get(0)),
                1);
        gauge(
                "vmrunner_config_rejected_timestamp_seconds",
                "When the runner read the refused edit, in seconds since the epoch.",
                rejected.at().toEpochMilli() / 1000.0);
    }

    /** A live migration's progress, while one runs or after it ended (the runner goes on). */
    private void migration(MigrationStatus m) {
        if (m == null) {
            return;
        }
        gauge(
                "vmrunner_migration_active",
                "1 while a live migration runs (either role).",
                m.result() == null ? 1 : 0);
        gauge(
                "vmrunner_migration_transferred_bytes",
                "RAM bytes the live migration has sent or received.",
                (double) m.transferredBytes());
        gauge(
                "vmrunner_migration_remaining_bytes",
                "RAM bytes the live migration still has to send.",
                (double) m.remainingBytes());
        gauge(
                "vmrunner_migration_dirty_pages_rate",
                "Pages the guest dirties per second during the migration.",
                (double) m.dirtyPagesRate());
        gauge(
                "vmrunner_migration_expected_downtime_seconds",
                "The guest's pause QEMU expects for the switch-over.",
                m.expectedDowntimeMs() / 1000.0);
    }

    private void gauge(String name, String help, double value) {
        family(name, "gauge", help);
        sample(name, "", value);
    }

    private void family(String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private void sample(String name, String labels, double value) {
        out.append(name).append(labels).append(' ').append(number(value)).append('\n');
    }

    private static String number(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        return Double.toString(value);
    }

    private static double seconds(Instant from, Instant to) {
        return Math.max(0, Duration.between(from, to).toMillis() / 1000.0);
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    /** {@code {k1="v1",k2="v2"}} with the values escaped as the format asks. */
    static String labels(String... keysAndValues) {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (i > 0) {
                b.append(',');
            }
            b.append(keysAndValues[i]).append("=\"").append(escape(keysAndValues[i + 1]));
            b.append('"');
        }
        return b.append('}').toString();
    }

    private static String escape(String value) {
        String v = value.length() > MAX_LABEL ? value.substring(0, MAX_LABEL) : value;
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
