package dev.vmrunner.supervisor.live;

import dev.vmrunner.qmp.CpuReplugPolicy;
import dev.vmrunner.qmp.HotpluggableCpu;
import dev.vmrunner.qmp.QemuVersion;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.VcpuSlot;
import dev.vmrunner.supervisor.live.Outcome.Applied;
import dev.vmrunner.supervisor.live.Outcome.Rejected;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * vCPU hot-plug and unplug. A plug is {@code device_add} into a free slot of {@code
 * query-hotpluggable-cpus}; an unplug is {@code device_del} of a hot-plugged vCPU, confirmed by
 * {@code query-cpus-fast} because QEMU 7.2 sends no {@code DEVICE_DELETED} for the CPU itself
 * (measured with TCG: only its {@code lapic} child's arrives). A guest that does not release the
 * vCPU is reported, not retried. The vCPUs QEMU was started with cannot be unplugged.
 *
 * <p>Which plugs are safe depends on QEMU's version ({@link CpuReplugPolicy}), read once per
 * monitor connection with {@code query-version} when the VM runs, so it is not on the start path.
 *
 * <p>A change's outcome goes to the {@code done} its call was given.
 */
final class CpuPlugging {

    private static final Duration UNPLUG_WAIT = Duration.ofSeconds(10);
    private static final Duration POLL = Duration.ofMillis(50);
    private static final Comparator<HotpluggableCpu> BY_TOPOLOGY =
            Comparator.comparing(HotpluggableCpu::slot);

    private final LiveLoop loop;

    /**
     * Slots emptied by an unplug in this QEMU run. QEMU 7.2 corrupts its heap and aborts when a
     * vCPU is plugged after one was unplugged, into the emptied slot or any other (measured: an
     * adopted QEMU aborted on a plug into a never-used slot after an unplug), so once one is
     * emptied no vCPU is plugged until the next start.
     */
    private final Set<VcpuSlot> unpluggedSlots = new HashSet<>();

    private Runnable emptiedChanged = () -> {};
    private boolean emptiedUnknown;

    /**
     * Unplugs in this QEMU run: vCPUs created = present + unplugs, since each unplugged vCPU was
     * created once. -1 when an earlier runner of this QEMU unplugged some (how often is unknown).
     */
    private int unplugs;

    private CompletableFuture<QemuVersion> version;

    CpuPlugging(LiveLoop loop) {
        this.loop = loop;
    }

    /** The slots emptied in this QEMU run. */
    Set<VcpuSlot> emptiedSlots() {
        return Set.copyOf(unpluggedSlots);
    }

    /**
     * Slots an earlier runner of this QEMU emptied, null when unknown (then no free slot is used:
     * any may have been emptied); {@code changed} runs when more are emptied.
     */
    void restore(Set<VcpuSlot> emptied, Runnable changed) {
        if (emptied == null) {
            emptiedUnknown = true;
        } else {
            unpluggedSlots.addAll(emptied);
        }
        if (emptied == null || !emptied.isEmpty()) {
            unplugs = -1;
        }
        emptiedChanged = changed;
    }

    /**
     * Asks QEMU for its version, once per monitor connection; plugs wait for the answer. An error
     * leaves the version unknown, which is treated like the oldest QEMU.
     */
    void connected(Qmp qmp) {
        version = qmp.queryVersion().exceptionally(error -> null);
    }

    void add(
            Qmp qmp,
            int present,
            int target,
            String accelerator,
            int maximumCpus,
            Consumer<Outcome> done) {
        if (version == null) {
            connected(qmp);
        }
        loop.whenDone(
                version,
                (qemu, ignored) ->
                        loop.whenDone(
                                qmp.queryHotpluggableCpus(),
                                (slots, error) -> {
                                    if (error != null) {
                                        done.accept(Rejected.by(error));
                                        return;
                                    }
                                    Choice choice =
                                            choose(
                                                    slots,
                                                    new Run(
                                                            qemu,
                                                            accelerator,
                                                            maximumCpus,
                                                            unpluggedSlots,
                                                            emptiedUnknown,
                                                            unplugs),
                                                    present,
                                                    target);
                                    plug(qmp, choice.slots(), 0, present, choice.shortfall(), done);
                                }));
    }

    /**
     * What is known of this QEMU run for a plug decision.
     *
     * @param version QEMU's version, null when unknown
     * @param emptied slots emptied by an unplug
     * @param emptiedUnknown whether other slots may have been emptied (an adopted QEMU)
     * @param unplugs unplugs in this run, -1 when unknown
     */
    record Run(
            QemuVersion version,
            String accelerator,
            int maximumCpus,
            Set<VcpuSlot> emptied,
            boolean emptiedUnknown,
            int unplugs) {}

    /** The slots to plug, lowest first, and why fewer than wanted (null: all wanted). */
    record Choice(List<HotpluggableCpu> slots, String shortfall) {}

    /** Which free slots to plug to go from {@code present} to {@code target} vCPUs. */
    static Choice choose(List<HotpluggableCpu> slots, Run run, int present, int target) {
        List<HotpluggableCpu> free = new ArrayList<>();
        for (HotpluggableCpu slot : slots) {
            if (slot.isFree()) {
                free.add(slot);
            }
        }
        // QEMU lists the highest slot first; fill from the lowest, as a machine would.
        free.sort(BY_TOPOLOGY);
        int wanted = target - present;
        boolean anyEmptied = run.emptiedUnknown() || !run.emptied().isEmpty();
        boolean reusable =
                run.version() != null && CpuReplugPolicy.emptiedSlotsReusable(run.version());
        List<HotpluggableCpu> chosen = new ArrayList<>();
        String refused = null;
        int created = present + Math.max(0, run.unplugs());
        for (HotpluggableCpu slot : free) {
            if (chosen.size() == wanted) {
                break;
            }
            if (anyEmptied && !reusable) {
                // QEMU 7.2 aborts on any plug after an unplug, into an emptied slot or not.
                refused =
                        "after an unplug no vCPU can be plugged before the next start (QEMU "
                                + (run.version() == null ? "version unknown" : run.version())
                                + " aborts)";
                break;
            }
            boolean emptied = run.emptiedUnknown() || run.emptied().contains(slot.slot());
            if (run.unplugs() < 0 && "tcg".equals(run.accelerator())) {
                refused =
                        "an earlier runner of this QEMU unplugged vCPUs; under TCG each plug uses"
                                + " one of vm.maximumCpus translation contexts for good, and how"
                                + " many are left is unknown until the next start";
                break;
            }
            if (!CpuReplugPolicy.mayPlug(
                    run.version(), run.accelerator(), emptied, created, run.maximumCpus())) {
                refused =
                        "under TCG QEMU has one translation context per vCPU of vm.maximumCpus ("
                                + run.maximumCpus()
                                + ") and "
                                + created
                                + " vCPUs were created in this run, re-plugs included; the"
                                + " next start frees them";
                break;
            }
            chosen.add(slot);
            created++;
        }
        String shortfall =
                chosen.size() == wanted
                        ? null
                        : "only "
                                + (present + chosen.size())
                                + " vCPUs: "
                                + (refused != null ? refused : "no free slot (vm.maximumCpus)");
        return new Choice(List.copyOf(chosen), shortfall);
    }

    private void plug(
            Qmp qmp,
            List<HotpluggableCpu> slots,
            int next,
            int present,
            String shortfall,
            Consumer<Outcome> done) {
        if (next == slots.size()) {
            done.accept(
                    shortfall == null
                            ? new Applied(vcpus(present))
                            : new Rejected(shortfall, true));
            return;
        }
        HotpluggableCpu slot = slots.get(next);
        loop.whenDone(
                qmp.addCpu(slot, slot.slot().deviceId()),
                (ok, error) -> {
                    if (error != null) {
                        done.accept(Rejected.by(error));
                    } else {
                        plug(qmp, slots, next + 1, present + 1, shortfall, done);
                    }
                });
    }

    void remove(Qmp qmp, int present, int target, Consumer<Outcome> done) {
        loop.whenDone(
                qmp.queryHotpluggableCpus(),
                (slots, error) -> {
                    if (error != null) {
                        done.accept(Rejected.by(error));
                        return;
                    }
                    List<HotpluggableCpu> plugged = new ArrayList<>();
                    for (HotpluggableCpu slot : slots) {
                        if (slot.qomPath() != null
                                && slot.qomPath().startsWith("/machine/peripheral/")) {
                            plugged.add(slot);
                        }
                    }
                    plugged.sort(BY_TOPOLOGY.reversed()); // highest slot, the last plugged, first
                    int count = Math.min(present - target, plugged.size());
                    for (HotpluggableCpu slot : plugged.subList(0, count)) {
                        String id = slot.qomPath().substring("/machine/peripheral/".length());
                        unpluggedSlots.add(slot.slot());
                        if (unplugs >= 0) {
                            unplugs++;
                        }
                        emptiedChanged.run();
                        loop.whenDone(
                                qmp.deleteDevice(id),
                                (ok, e) -> {
                                    if (e != null) {
                                        done.accept(Rejected.by(e));
                                    }
                                });
                    }
                    int expected = present - count;
                    awaitCount(
                            qmp,
                            expected,
                            loop.nanoTime() + UNPLUG_WAIT.toNanos(),
                            count < present - target
                                    ? new Rejected(
                                            "only hot-plugged vCPUs can be removed, "
                                                    + expected
                                                    + " remain",
                                            true)
                                    : null,
                            done);
                });
    }

    private void awaitCount(
            Qmp qmp, int expected, long deadline, Rejected shortfall, Consumer<Outcome> done) {
        loop.whenDone(
                qmp.queryCpusFast(),
                (cpus, error) -> {
                    if (error != null) {
                        done.accept(Rejected.by(error));
                    } else if (cpus.size() <= expected) {
                        done.accept(
                                shortfall != null ? shortfall : new Applied(vcpus(cpus.size())));
                    } else if (loop.nanoTime() - deadline > 0) {
                        done.accept(
                                new Rejected(
                                        "the guest did not release the vCPU within "
                                                + UNPLUG_WAIT.toSeconds()
                                                + " s ("
                                                + vcpus(cpus.size())
                                                + " remain)"));
                    } else {
                        loop.schedule(
                                POLL, () -> awaitCount(qmp, expected, deadline, shortfall, done));
                    }
                });
    }

    private static String vcpus(int count) {
        return count == 1 ? "1 vCPU" : count + " vCPUs";
    }
}
