package dev.vmrunner.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.status.Status;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What each new status tells the cluster. */
class StatusEventsTest {

    static final Instant T0 = Instant.parse("2026-12-08T01:00:00Z");
    static final long M = 1024 * 1024;

    static Status status(String state) {
        return status(state, null, List.of(), List.of(), null, null);
    }

    static Status status(
            String state,
            Status.Guest guest,
            List<Status.Drive> drives,
            List<String> needsRestart,
            Status.RejectedEdit rejected,
            String error) {
        return new Status(
                "web",
                state,
                T0,
                T0,
                null,
                "starting".equals(state) ? null : 42L,
                null,
                new Status.Ram(1024 * M, 512 * M, null),
                new Status.Cpus(4, 2, null),
                drives,
                List.of(),
                needsRestart,
                Map.of(),
                null,
                error,
                guest,
                null,
                rejected);
    }

    static Status.Guest booted(String os) {
        return new Status.Guest(true, T0, os, "web", "UTC", List.of());
    }

    private static List<Reason> reasons(Status before, Status now) {
        return StatusEvents.between(before, now).stream().map(StatusEvents.Told::reason).toList();
    }

    @Test
    void theLifecycleMovesAreTold() {
        assertEquals(List.of(), reasons(null, status("starting")));
        assertEquals(List.of(), reasons(status("starting"), status("starting")));
        List<StatusEvents.Told> started =
                StatusEvents.between(status("starting"), status("running"));
        assertEquals(Reason.STARTED, started.get(0).reason());
        assertEquals("VM web is running (QEMU pid 42)", started.get(0).message());
        assertEquals(List.of(), reasons(status("running"), status("running")));
        assertEquals(List.of(Reason.STOPPING), reasons(status("running"), status("stopping")));
        assertEquals(List.of(Reason.STOPPED), reasons(status("stopping"), status("stopped")));
    }

    @Test
    void theBootIsToldOnceWithTheOs() {
        Status running = status("running");
        Status up =
                status("running", booted("Debian GNU/Linux 12"), List.of(), List.of(), null, null);
        List<StatusEvents.Told> told = StatusEvents.between(running, up);
        assertEquals(
                List.of(
                        new StatusEvents.Told(
                                Reason.BOOTED, "The guest booted (Debian GNU/Linux 12)")),
                told);
        assertEquals(List.of(), reasons(up, up));
    }

    @Test
    void aRejectedEditIsToldWithItsProblemsOncePerEdit() {
        Status.RejectedEdit edit =
                new Status.RejectedEdit(T0, List.of("line 3: vm.currentRam: not a size: lots"));
        Status rejected = status("running", null, List.of(), List.of(), edit, null);
        List<StatusEvents.Told> told = StatusEvents.between(status("running"), rejected);
        assertEquals(Reason.CONFIG_REJECTED, told.get(0).reason());
        assertTrue(told.get(0).message().contains("line 3: vm.currentRam"), told.toString());
        assertEquals(List.of(), reasons(rejected, rejected));
        Status again =
                status(
                        "running",
                        null,
                        List.of(),
                        List.of(),
                        new Status.RejectedEdit(T0.plusSeconds(1), edit.problems()),
                        null);
        assertEquals(List.of(Reason.CONFIG_REJECTED), reasons(rejected, again));
    }

    @Test
    void restartKeysCdMediaAndErrorsAreToldWhenTheyChange() {
        Status.Drive empty = new Status.Drive("cd0", "vm.drives[1].file", null, false, false, null);
        Status.Drive full =
                new Status.Drive("cd0", "vm.drives[1].file", "/iso/a.iso", false, false, null);
        Status before = status("running", null, List.of(empty), List.of(), null, null);
        Status after =
                status("running", null, List.of(full), List.of("vm.firmware"), null, "Failed x");
        List<StatusEvents.Told> told = StatusEvents.between(before, after);
        assertEquals(
                List.of(
                        new StatusEvents.Told(
                                Reason.NEEDS_RESTART,
                                "Takes effect at the next start: vm.firmware"),
                        new StatusEvents.Told(
                                Reason.CD_CHANGED, "cd0 (vm.drives[1].file): now holds /iso/a.iso"),
                        new StatusEvents.Told(Reason.ERROR, "Failed x")),
                told);
        assertEquals(List.of(), reasons(after, after));
    }

    @Test
    void thePodShowsStateRamCpusAndOs() {
        Status up = status("running", booted("Debian 12"), List.of(), List.of(), null, null);
        assertEquals(Map.of("vmrunner.dev/state", "running"), StatusEvents.labels(up));
        assertEquals(
                Map.of(
                        "vmrunner.dev/ram", "512M",
                        "vmrunner.dev/cpus", "2",
                        "vmrunner.dev/os", "Debian 12"),
                StatusEvents.annotations(up));
    }

    @Test
    void aLabelValueIsAlwaysValid() {
        assertEquals("running", StatusEvents.labelValue("running"));
        assertEquals("a-b", StatusEvents.labelValue("-a b-"));
        assertEquals(63, StatusEvents.labelValue("x".repeat(100)).length());
    }
}
