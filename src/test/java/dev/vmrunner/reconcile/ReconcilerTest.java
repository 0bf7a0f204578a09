package dev.vmrunner.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmrunner.reconcile.Action.AddCpus;
import dev.vmrunner.reconcile.Action.ChangeMedium;
import dev.vmrunner.reconcile.Action.EjectMedium;
import dev.vmrunner.reconcile.Action.RemoveCpus;
import dev.vmrunner.reconcile.Action.SetBalloon;
import dev.vmrunner.reconcile.Observed.Cd;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReconcilerTest {

    static final long M = 1 << 20;

    static Desired desired(long ram, int cpus, String... media) {
        List<Integer> positions = new java.util.ArrayList<>();
        for (int i = 0; i < media.length; i++) {
            positions.add(i + 1); // drive 0 is a disk
        }
        return new Desired(ram, cpus, Arrays.asList(media), positions);
    }

    @Test
    void nothingToDoWhenQemuMatches() {
        Observed observed = new Observed(512 * M, 2, Map.of("cd0", new Cd("/a.iso", false, false)));
        assertEquals(List.of(), Reconciler.diff(desired(512 * M, 2, "/a.iso"), observed));
    }

    @Test
    void memoryGoesToTheBalloon() {
        Observed observed = new Observed(512 * M, 1, Map.of());
        assertEquals(
                List.of(new SetBalloon(256 * M)), Reconciler.diff(desired(256 * M, 1), observed));
    }

    @Test
    void noBalloonNoBalloonAction() {
        assertEquals(
                List.of(), Reconciler.diff(desired(256 * M, 1), new Observed(null, 1, Map.of())));
    }

    @Test
    void cpusArePluggedAndUnplugged() {
        assertEquals(
                List.of(new AddCpus(1, 3)),
                Reconciler.diff(desired(M, 3), new Observed(M, 1, Map.of())));
        assertEquals(
                List.of(new RemoveCpus(3, 2)),
                Reconciler.diff(desired(M, 2), new Observed(M, 3, Map.of())));
    }

    @Test
    void aDriveWithEjectRequestAsksTheGuestWhenItsTrayIsLocked() {
        Desired want = new Desired(M, 1, List.of("/new.iso"), List.of(2), List.of(true));
        Observed observed = new Observed(M, 1, Map.of("cd0", new Cd("/old.iso", false, true)));
        assertEquals(
                List.of(new Action.AwaitEject("vm.drives[2].file", "cd0", "/new.iso", true)),
                Reconciler.diff(want, observed));
    }

    @Test
    void aLockedTrayWaitsForTheGuestsEjectAndAnOpenOneIsChanged() {
        Desired want = new Desired(M, 1, List.of("/new.iso", "/new2.iso"), List.of(0, 1));
        Observed observed =
                new Observed(
                        M,
                        1,
                        Map.of(
                                "cd0", new Cd("/old.iso", false, true),
                                "cd1", new Cd("/old.iso", true, true)));
        assertEquals(
                List.of(
                        new Action.AwaitEject("vm.drives[0].file", "cd0", "/new.iso"),
                        new ChangeMedium("vm.drives[1].file", "cd1", "/new2.iso")),
                Reconciler.diff(want, observed));
    }

    @Test
    void cdMediaChangeOrEjectByPosition() {
        Observed observed =
                new Observed(
                        M,
                        1,
                        Map.of(
                                "cd0", new Cd("/old.iso", false, false),
                                "cd1", new Cd("/x.iso", false, false),
                                "cd2", new Cd(null, true, false)));
        assertEquals(
                List.of(
                        new ChangeMedium("vm.drives[1].file", "cd0", "/new.iso"),
                        new EjectMedium("vm.drives[2].file", "cd1"),
                        new ChangeMedium("vm.drives[3].file", "cd2", "/y.iso")),
                Reconciler.diff(desired(M, 1, "/new.iso", null, "/y.iso"), observed));
    }

    @Test
    void aCdTheTemplateDoesNotHaveIsSkipped() {
        assertEquals(
                List.of(), Reconciler.diff(desired(M, 1, "/a.iso"), new Observed(M, 1, Map.of())));
    }
}
