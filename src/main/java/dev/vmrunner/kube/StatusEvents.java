package dev.vmrunner.kube;

import dev.vmrunner.config.Sizes;
import dev.vmrunner.status.Status;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a new status tells the cluster that the one before did not: pure, so that a test needs
 * neither a loop nor a server. The supervisor publishes a status after every event; most are the
 * same as the one before as far as the cluster is concerned, and yield nothing.
 */
final class StatusEvents {

    /** The label {@code kubectl get pod -L vmrunner.dev/state} shows. */
    static final String STATE_LABEL = "vmrunner.dev/state";

    static final String RAM = "vmrunner.dev/ram";
    static final String CPUS = "vmrunner.dev/cpus";
    static final String OS = "vmrunner.dev/os";

    /** The longest OS description kept in an annotation (the guest says what it likes). */
    private static final int MAX_OS = 200;

    private StatusEvents() {}

    /** One Event to send. */
    record Told(Reason reason, String message) {}

    /** The Events from {@code before} (null: none yet) to {@code now}. */
    static List<Told> between(Status before, Status now) {
        List<Told> told = new ArrayList<>();
        String was = before == null ? null : before.state();
        if (!now.state().equals(was)) {
            switch (now.state()) {
                case "running" ->
                        told.add(
                                new Told(
                                        Reason.STARTED,
                                        "VM "
                                                + now.name()
                                                + " is running"
                                                + (now.qemuPid() == null
                                                        ? ""
                                                        : " (QEMU pid " + now.qemuPid() + ")")));
                case "stopping" ->
                        told.add(new Told(Reason.STOPPING, "VM " + now.name() + " is stopping"));
                case "stopped" ->
                        told.add(new Told(Reason.STOPPED, "VM " + now.name() + " has stopped"));
                default -> {}
            }
        }
        guest(before == null ? null : before.guest(), now.guest(), told);
        edits(before, now, told);
        String error = now.lastError();
        if (error != null && !error.equals(before == null ? null : before.lastError())) {
            told.add(new Told(Reason.ERROR, error));
        }
        return told;
    }

    private static void guest(Status.Guest before, Status.Guest now, List<Told> told) {
        if (now == null) {
            return;
        }
        if (now.booted() && (before == null || !before.booted())) {
            told.add(
                    new Told(
                            Reason.BOOTED,
                            "The guest booted" + (now.os() == null ? "" : " (" + now.os() + ")")));
        }
        String misbehaving = now.agentMisbehaving();
        if (misbehaving != null
                && (before == null || before.agentDisconnects() != now.agentDisconnects())) {
            told.add(
                    new Told(
                            Reason.AGENT_MISBEHAVING,
                            "The guest agent was disconnected: " + misbehaving));
        }
    }

    private static void edits(Status before, Status now, List<Told> told) {
        Status.RejectedEdit rejected = now.rejectedEdit();
        if (rejected != null && !rejected.equals(before == null ? null : before.rejectedEdit())) {
            told.add(
                    new Told(
                            Reason.CONFIG_REJECTED,
                            "The configuration was not applied (the VM keeps the last good one): "
                                    + String.join("; ", rejected.problems())));
        }
        List<String> restart = new ArrayList<>(now.needsRestart());
        if (before != null) {
            restart.removeAll(before.needsRestart());
        }
        if (!restart.isEmpty()) {
            told.add(
                    new Told(
                            Reason.NEEDS_RESTART,
                            "Takes effect at the next start: " + String.join(", ", restart)));
        }
        if (before == null) {
            return;
        }
        Map<String, Status.Drive> drives = new LinkedHashMap<>();
        before.drives().forEach(d -> drives.put(d.id(), d));
        for (Status.Drive drive : now.drives()) {
            Status.Drive was = drives.get(drive.id());
            if (was != null && !Objects.equals(was.medium(), drive.medium())) {
                told.add(
                        new Told(
                                Reason.CD_CHANGED,
                                drive.id()
                                        + " ("
                                        + drive.key()
                                        + "): "
                                        + (drive.medium() == null
                                                ? "ejected"
                                                : "now holds " + drive.medium())));
            }
        }
    }

    /** The pod's label: the VM's state. */
    static Map<String, String> labels(Status now) {
        return Map.of(STATE_LABEL, labelValue(now.state()));
    }

    /** The pod's annotations: RAM, vCPUs and the guest's OS, as far as known. */
    static Map<String, String> annotations(Status now) {
        Map<String, String> out = new LinkedHashMap<>();
        Status.Ram ram = now.ram();
        out.put(RAM, Sizes.format(ram.actual() != null ? ram.actual() : ram.target()));
        Status.Cpus cpus = now.cpus();
        out.put(CPUS, String.valueOf(cpus.present() != null ? cpus.present() : cpus.target()));
        String os = now.guest() == null ? null : now.guest().os();
        if (os != null) {
            out.put(OS, os.length() > MAX_OS ? os.substring(0, MAX_OS) : os);
        }
        return out;
    }

    /** A label value (at most 63 of [A-Za-z0-9._-], alphanumeric at both ends). */
    static String labelValue(String text) {
        String value = text.replaceAll("[^A-Za-z0-9._-]", "-");
        value = value.length() > 63 ? value.substring(0, 63) : value;
        return value.replaceAll("^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "");
    }
}
