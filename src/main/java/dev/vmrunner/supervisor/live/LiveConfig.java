package dev.vmrunner.supervisor.live;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.kube.VmFacts;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.VcpuSlot;
import dev.vmrunner.qmp.VmEvent;
import dev.vmrunner.reconcile.Action;
import dev.vmrunner.reconcile.ChangeReport;
import dev.vmrunner.reconcile.ChangeReport.Change;
import dev.vmrunner.reconcile.Desired;
import dev.vmrunner.reconcile.LiveKey;
import dev.vmrunner.reconcile.Observed;
import dev.vmrunner.reconcile.Reconciler;
import dev.vmrunner.status.Status;
import dev.vmrunner.supervisor.live.Outcome.Applied;
import dev.vmrunner.supervisor.live.Outcome.Ignored;
import dev.vmrunner.supervisor.live.Outcome.Pending;
import dev.vmrunner.supervisor.live.Outcome.Rejected;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Applies configuration changes to the running VM, on the supervisor's loop: validate the new file
 * (an invalid one is reported and ignored as a whole), report per key what happens, then observe
 * QEMU, diff, act. One log line per changed key: applied, pending (why), needs a restart, or
 * rejected. Every {@link Outcome} of a change sent on to QEMU or the guest comes back to {@link
 * #report}, the one place that logs, keeps and counts it.
 */
public final class LiveConfig {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private final LiveLoop loop;
    private final Map<String, String> env;
    private final Consumer<Duration> powerdownTimeoutChanged;
    private Balloon balloon;
    private CpuPlugging cpus;
    private CdMedia cds;

    /** A round that has not finished by then is given up on, so later changes still apply. */
    private static final Duration ROUND_LIMIT = Duration.ofMinutes(2);

    private RunnerConfig initial;

    private Consumer<byte[]> appliedContent = content -> {};
    private RunnerConfig current;

    private Qmp qmp;
    private boolean running;

    /**
     * One reconciliation at a time: a round observes QEMU, acts, and ends when every action has
     * reported. A change that arrives meanwhile waits for the next round, which observes anew (two
     * quick edits must not plug the same vCPU slot twice).
     */
    private boolean reconciling;

    private boolean again;
    private boolean acting;
    private final Set<String> outstanding = new LinkedHashSet<>();
    private LiveLoop.Timer roundLimit;

    /** What QEMU last reported (null before the first look), for the status. */
    private Observed lastObserved;

    /** The outcomes, the changes that wait for one, and what the status shows of them. */
    private final ChangeLedger ledger = new ChangeLedger();

    /**
     * @param started the configuration QEMU was started with (what needs a restart is measured
     *     against it)
     * @param applied the configuration QEMU runs with now: the same, unless an earlier runner of an
     *     adopted QEMU applied changes
     */
    public LiveConfig(
            LiveLoop loop,
            RunnerConfig started,
            RunnerConfig applied,
            Map<String, String> env,
            Consumer<Duration> powerdownTimeoutChanged) {
        this.loop = loop;
        this.current = applied;
        this.initial = started;
        ledger.restartKeys(initial, current);
        this.env = env;
        this.powerdownTimeoutChanged = powerdownTimeoutChanged;
        this.balloon = new Balloon(loop, () -> current.vm().currentRam());
        this.cpus = new CpuPlugging(loop);
        this.cds = new CdMedia(loop);
    }

    /** How many changes ended how, for metrics. */
    public Outcomes counted() {
        return ledger.counted;
    }

    /** Every outcome is told to {@code facts} as well (Kubernetes Events). Loop thread. */
    public void tellFacts(VmFacts facts) {
        ledger.facts = facts;
    }

    public RunnerConfig current() {
        return current;
    }

    /**
     * Keeps what a runner adopting this QEMU would need: {@code applied} gets each configuration
     * file content that became current, {@code emptied} the vCPU slots whenever an unplug empties
     * one; {@code known} are those an earlier runner emptied (null: unknown).
     */
    public void keepState(
            Consumer<byte[]> applied, Set<VcpuSlot> known, Consumer<Set<VcpuSlot>> emptied) {
        this.appliedContent = applied;
        cpus.restore(known, () -> emptied.accept(cpus.emptiedSlots()));
    }

    /**
     * A fresh start of the VM in the same runner, with the current configuration: what needs a
     * restart is measured against it from now on, and nothing of the previous QEMU is kept.
     */
    public void restarted() {
        initial = current;
        ledger.restartKeys(initial, current);
        running = false;
        qmp = null;
        lastObserved = null;
        balloon = new Balloon(loop, () -> current.vm().currentRam());
        cpus = new CpuPlugging(loop);
        cds = new CdMedia(loop);
    }

    /** What the status shows of live changes and of QEMU's state. */
    public record View(
            Long ramActual,
            Integer cpusPresent,
            List<Status.Drive> drives,
            List<String> pending,
            List<String> needsRestart,
            Map<String, String> lastChanges,
            Status.RejectedEdit rejectedEdit) {}

    public View view() {
        return ledger.view(current, lastObserved, cds.waiting());
    }

    /** The VM runs: apply what the configuration asks beyond the command line (the balloon). */
    public void onRunning(Qmp qmp) {
        this.qmp = qmp;
        this.running = true;
        cpus.connected(qmp);
        reconcile();
    }

    /** The monitor was lost and is back: catch up with what changed meanwhile. */
    public void onReconnected(Qmp qmp) {
        this.qmp = qmp;
        cpus.connected(qmp);
        if (running) {
            reconcile();
        }
    }

    /** The VM is being stopped: only the powerdown timeout still matters. */
    public void onTerminating() {
        running = false;
    }

    public void onQmpEvent(VmEvent event) {
        if (running && cds.opensWaitingTray(event)) {
            reconcile(); // the guest ejected: a waiting CD change can complete
        } else if (event instanceof VmEvent.TrayMoved) {
            refresh();
        }
        if (event instanceof VmEvent.BalloonChange b) {
            if (lastObserved != null) {
                lastObserved =
                        new Observed(
                                b.actualBytes(), lastObserved.presentCpus(), lastObserved.cds());
            }
            balloon.moved();
        }
    }

    /** A new content of the configuration file. */
    public void onFileChanged(byte[] content, boolean terminating) {
        RunnerConfig next = EditReader.read(content, current.configFile(), env, ledger);
        if (next == null) {
            return;
        }
        List<Change> changes = ChangeReport.between(current, next);
        RunnerConfig previous = current;
        current = next;
        ledger.restartKeys(initial, current);
        appliedContent.accept(content);
        if (changes.isEmpty()) {
            LOG.fine("Configuration file changed, but nothing that matters");
            return;
        }
        LOG.info(
                () ->
                        "Configuration file changed: "
                                + changes.size()
                                + (changes.size() == 1 ? " key differs" : " keys differ"));
        for (Change change : changes) {
            LiveKey key = change.liveKey();
            if (terminating && (key == null || !key.alsoWhileStopping())) {
                ChangeLedger.tell(change, new Ignored(Ignored.Why.STOPPING));
            } else if (key == null) {
                LOG.warning(() -> change + ": needs a restart (takes effect at the next start)");
            } else {
                switch (key) {
                    case POWERDOWN_TIMEOUT -> {
                        powerdownTimeoutChanged.accept(
                                Duration.ofSeconds(next.vm().powerdownTimeout()));
                        ChangeLedger.tell(change, EditReader.decidedByFile(key, next));
                    }
                    case RESET_COUNTER -> {
                        ledger.unreported.put(change.key(), change);
                        resetIfIncreased(change, previous.resetCounter(), next.resetCounter());
                    }
                    case GUEST_SHUTDOWN_STOPS, VM_STATE ->
                            ChangeLedger.tell(change, EditReader.decidedByFile(key, next));
                    case CURRENT_RAM, CURRENT_CPUS, CD_MEDIUM -> {
                        ledger.unreported.put(change.key(), change);
                        if (!running) {
                            ChangeLedger.tell(change, Pending.UNTIL_RUNNING);
                        }
                    }
                }
            }
        }
        if (running && !ledger.unreported.isEmpty()) {
            reconcile();
        }
    }

    private void resetIfIncreased(Change change, Long before, Long after) {
        if (before != null && (after == null || after <= before)) {
            report(change.key(), new Ignored(Ignored.Why.NOT_AN_INCREASE));
        } else if (!running) {
            report(change.key(), new Ignored(Ignored.Why.NOT_RUNNING));
        } else {
            loop.whenDone(
                    qmp.systemReset(),
                    (ok, error) ->
                            report(
                                    change.key(),
                                    error == null ? new Applied("VM reset") : Rejected.by(error)));
        }
    }

    /** Observe → diff → act, one round at a time. */
    private void reconcile() {
        if (qmp == null) {
            return;
        }
        if (reconciling) {
            again = true;
            return;
        }
        reconciling = true;
        again = false;
        roundLimit = loop.schedule(ROUND_LIMIT, this::roundOverdue);
        observe(
                observed -> {
                    if (observed == null) {
                        endRound();
                        return;
                    }
                    List<Action> actions =
                            Reconciler.diff(Desired.of(current), observed).stream()
                                    .filter(this::worthActing)
                                    .toList();
                    actions.forEach(a -> outstanding.add(a.key()));
                    for (Change change : List.copyOf(ledger.unreported.values())) {
                        // A reset is under way on its own, not part of the round.
                        if (change.liveKey().reconciled() && !outstanding.contains(change.key())) {
                            report(change.key(), new Applied("QEMU already matches"));
                        }
                    }
                    acting = true;
                    actions.forEach(this::act);
                    acting = false;
                    if (outstanding.isEmpty()) {
                        endRound();
                    }
                });
    }

    /**
     * Asks QEMU for the live-changeable state; {@code then} gets it on the loop, or null when QEMU
     * could not be asked. What it reports is also kept for the status.
     */
    private void observe(Consumer<Observed> then) {
        Observing.ask(
                loop,
                qmp,
                observed -> {
                    if (observed != null) {
                        lastObserved = observed;
                    }
                    then.accept(observed);
                });
    }

    /** Refreshes what the status shows of QEMU's state. */
    private void refresh() {
        if (qmp != null && running) {
            observe(observed -> {});
        }
    }

    /**
     * Whether a difference is acted on in this round: when a change of the file asks for it, when a
     * guest's eject lets a waiting CD change complete, or when QEMU no longer has what was applied.
     * A difference already reported as rejected or pending stays reported, not retried with every
     * later round.
     */
    private boolean worthActing(Action action) {
        String key = action.key();
        if (ledger.unreported.containsKey(key)) {
            return true;
        }
        if (cds.waiting().containsValue(key)) {
            return !(action instanceof Action.AwaitEject); // still locked: wait on, quietly
        }
        Outcome last = ledger.outcomes.get(key);
        return last == null || last instanceof Applied;
    }

    private void endRound() {
        refresh();
        reconciling = false;
        outstanding.clear();
        if (roundLimit != null) {
            roundLimit.cancel();
            roundLimit = null;
        }
        if (again && running) {
            reconcile();
        }
    }

    private void roundOverdue() {
        roundLimit = null;
        LOG.warning(
                () ->
                        "QEMU has not completed the changes to "
                                + String.join(", ", outstanding)
                                + " within "
                                + ROUND_LIMIT.toSeconds()
                                + " s; later changes are applied all the same");
        endRound();
    }

    private void act(Action action) {
        Consumer<Outcome> done = outcome -> report(action.key(), outcome);
        if (action instanceof Action.SetBalloon b) {
            balloon.set(qmp, b.bytes(), done);
        } else if (action instanceof Action.AddCpus a) {
            cpus.add(
                    qmp,
                    a.present(),
                    a.target(),
                    current.vm().accelerator(),
                    current.vm().maximumCpus(),
                    done);
        } else if (action instanceof Action.RemoveCpus r) {
            cpus.remove(qmp, r.present(), r.target(), done);
        } else if (action instanceof Action.ChangeMedium c) {
            cds.change(qmp, c.qdevId(), c.file(), done);
        } else if (action instanceof Action.EjectMedium e) {
            cds.change(qmp, e.qdevId(), null, done);
        } else if (action instanceof Action.AwaitEject w) {
            cds.awaitEject(qmp, w.key(), w.qdevId(), w.requestEject(), done);
        }
    }

    /** Hands the outcome to the one sink; the round ends when it was the last one it waited for. */
    private void report(String key, Outcome outcome) {
        ledger.report(key, outcome);
        if (outstanding.remove(key) && reconciling && !acting && outstanding.isEmpty()) {
            endRound();
        }
    }
}
