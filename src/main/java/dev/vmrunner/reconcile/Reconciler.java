package dev.vmrunner.reconcile;

import dev.vmrunner.reconcile.Action.AddCpus;
import dev.vmrunner.reconcile.Action.AwaitEject;
import dev.vmrunner.reconcile.Action.ChangeMedium;
import dev.vmrunner.reconcile.Action.EjectMedium;
import dev.vmrunner.reconcile.Action.RemoveCpus;
import dev.vmrunner.reconcile.Action.SetBalloon;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Desired versus observed → the actions that close the gap. Pure: no QEMU, no I/O. */
public final class Reconciler {

    private Reconciler() {}

    public static List<Action> diff(Desired desired, Observed observed) {
        List<Action> actions = new ArrayList<>();
        if (observed.balloonActual() != null && observed.balloonActual() != desired.currentRam()) {
            actions.add(new SetBalloon(desired.currentRam()));
        }
        if (desired.currentCpus() > observed.presentCpus()) {
            actions.add(new AddCpus(observed.presentCpus(), desired.currentCpus()));
        } else if (desired.currentCpus() < observed.presentCpus()) {
            actions.add(new RemoveCpus(observed.presentCpus(), desired.currentCpus()));
        }
        for (int i = 0; i < desired.cdMedia().size(); i++) {
            String id = Desired.cdId(i);
            Observed.Cd cd = observed.cds().get(id);
            if (cd == null) {
                continue; // the template has no such drive; reported by the caller
            }
            String want = desired.cdMedia().get(i);
            if (Objects.equals(want, cd.file())) {
                continue;
            }
            String key = desired.cdKey(i);
            if (cd.locked() && !cd.trayOpen()) {
                actions.add(new AwaitEject(key, id, want, desired.cdEjectRequests().get(i)));
            } else {
                actions.add(
                        want == null ? new EjectMedium(key, id) : new ChangeMedium(key, id, want));
            }
        }
        return actions;
    }
}
