package dev.vmrunner.supervisor.live;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.kube.VmFacts;
import dev.vmrunner.reconcile.ChangeReport;
import dev.vmrunner.reconcile.ChangeReport.Change;
import dev.vmrunner.reconcile.Desired;
import dev.vmrunner.reconcile.Observed;
import dev.vmrunner.status.Status;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.logging.Logger;

/**
 * The bookkeeping of {@link LiveConfig}'s changes: which wait for their outcome, the last outcome
 * per key and the counts, and what the status shows of them. {@link #report} is the one sink of
 * outcomes. Loop thread only, except the counts.
 */
final class ChangeLedger {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** Keys whose change waits for the next start; computed when the configuration changes. */
    private List<String> needsRestart = List.of();

    /** The file's last content, when it was refused (for the status). */
    Status.RejectedEdit rejected;

    /** Per key, the outcome of its last change, for the status. */
    final Map<String, Outcome> outcomes = new LinkedHashMap<>();

    /** How many changes ended how, for metrics. */
    final Outcomes counted = new Outcomes();

    /** Who else hears of every outcome. */
    VmFacts facts = VmFacts.NONE;

    /** Live changes whose outcome is not logged yet, by key. */
    final Map<String, Change> unreported = new LinkedHashMap<>();

    /** Measures what needs a restart: what differs between the two that is not live. */
    void restartKeys(RunnerConfig initial, RunnerConfig current) {
        List<String> keys = new ArrayList<>();
        for (Change change : ChangeReport.between(initial, current)) {
            if (!change.live()) {
                keys.add(change.key());
            }
        }
        needsRestart = List.copyOf(keys);
    }

    /**
     * What the status shows, for the configuration now current, what QEMU last reported (null
     * before the first look) and the CD changes that wait for the guest (qdev id → key).
     */
    LiveConfig.View view(RunnerConfig current, Observed lastObserved, Map<String, String> waiting) {
        Desired desired = Desired.of(current);
        List<Status.Drive> drives = new ArrayList<>();
        for (int i = 0; i < desired.cdMedia().size(); i++) {
            String id = Desired.cdId(i);
            Observed.Cd cd = lastObserved == null ? null : lastObserved.cds().get(id);
            String want = desired.cdMedia().get(i);
            boolean differs = cd != null && !Objects.equals(want, cd.file());
            drives.add(
                    new Status.Drive(
                            id,
                            desired.cdKey(i),
                            cd == null ? want : cd.file(),
                            cd == null ? null : cd.trayOpen(),
                            cd != null && cd.locked(),
                            differs ? (want == null ? "" : want) : null));
        }
        List<String> pending = new ArrayList<>();
        unreported.values().forEach(change -> pending.add(change.toString()));
        waiting.forEach(
                (id, key) ->
                        pending.add(key + ": waits for the guest to eject the medium of " + id));
        Map<String, String> lastChanges = new LinkedHashMap<>();
        outcomes.forEach((key, outcome) -> lastChanges.put(key, outcome.text()));
        return new LiveConfig.View(
                lastObserved == null ? null : lastObserved.balloonActual(),
                lastObserved == null ? null : lastObserved.presentCpus(),
                drives,
                pending,
                needsRestart,
                lastChanges,
                rejected);
    }

    /**
     * The one sink of outcomes: logs the outcome for a key (one line per change, with its old and
     * new value), keeps it for the status, counts it for metrics and tells the facts' listener.
     */
    void report(String key, Outcome outcome) {
        Change change = unreported.remove(key);
        LOG.info(() -> (change != null ? change.toString() : key) + ": " + outcome.text());
        outcomes.put(key, outcome);
        counted.count(outcome);
        facts.changeDone(key, outcome.kind(), outcome.text());
    }

    /**
     * Logs an outcome decided from the file alone, which nothing is sent on for; the status and
     * metrics have never kept these, and do not.
     */
    static void tell(Change change, Outcome outcome) {
        LOG.info(() -> change + ": " + outcome.text());
    }
}
