package dev.vmrunner.supervisor;

import dev.vmrunner.qmp.HotpluggableCpu;
import dev.vmrunner.qmp.Qmp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * vCPU hot-plug and unplug. A plug is {@code device_add} into a free slot of {@code
 * query-hotpluggable-cpus}; an unplug is {@code device_del} of a hot-plugged vCPU, confirmed by
 * {@code query-cpus-fast} because QEMU 7.2 sends no {@code DEVICE_DELETED} for the CPU itself
 * (qemu-facts.md). A guest that does not release the vCPU is reported, not retried. The vCPUs QEMU
 * was started with cannot be unplugged.
 */
final class CpuPlugging {

    private static final Duration UNPLUG_WAIT = Duration.ofSeconds(10);
    private static final List<String> TOPOLOGY =
            List.of("socket-id", "die-id", "core-id", "thread-id");
    private static final Duration POLL = Duration.ofMillis(50);
    private static final String KEY = "vm.currentCpus";

    private final Loop loop;
    private final LiveConfig.Reporter reporter;

    /**
     * Slots emptied by an unplug in this QEMU run. QEMU 7.2 corrupts its heap and aborts when a
     * vCPU is plugged after one was unplugged, into the emptied slot or any other (measured: an
     * adopted QEMU aborted on a plug into a never-used slot after an unplug), so once one is
     * emptied no vCPU is plugged until the next start.
     */
    private final Set<String> unpluggedSlots = new HashSet<>();

    private Runnable emptiedChanged = () -> {};
    private boolean emptiedUnknown;

    CpuPlugging(Loop loop, LiveConfig.Reporter reporter) {
        this.loop = loop;
        this.reporter = reporter;
    }

    /** The slots emptied in this QEMU run (each slot's properties as JSON text). */
    Set<String> emptiedSlots() {
        return Set.copyOf(unpluggedSlots);
    }

    /**
     * Slots an earlier runner of this QEMU emptied, null when unknown (then no free slot is used:
     * any may have been emptied); {@code changed} runs when more are emptied.
     */
    void restore(Set<String> emptied, Runnable changed) {
        if (emptied == null) {
            emptiedUnknown = true;
        } else {
            unpluggedSlots.addAll(emptied);
        }
        emptiedChanged = changed;
    }

    void add(Qmp qmp, int present, int target) {
        loop.whenDone(
                qmp.queryHotpluggableCpus(),
                (slots, error) -> {
                    if (error != null) {
                        reporter.report(KEY, "rejected: " + error.getMessage());
                        return;
                    }
                    List<HotpluggableCpu> free = new ArrayList<>();
                    int reused = 0;
                    for (HotpluggableCpu slot : slots) {
                        if (!slot.isFree()) {
                            continue;
                        }
                        if (emptiedUnknown || !unpluggedSlots.isEmpty()) {
                            reused++;
                        } else {
                            free.add(slot);
                        }
                    }
                    // QEMU lists the highest slot first; fill from the lowest, as a machine would.
                    free.sort(CpuPlugging::byTopology);
                    int wanted = target - present;
                    List<HotpluggableCpu> chosen = free.subList(0, Math.min(wanted, free.size()));
                    String shortfall =
                            chosen.size() == wanted
                                    ? null
                                    : reused > 0
                                            ? "only "
                                                    + (present + chosen.size())
                                                    + " vCPUs: after an unplug no vCPU can be"
                                                    + " plugged before the next start (QEMU 7.2"
                                                    + " aborts)"
                                            : "only "
                                                    + (present + chosen.size())
                                                    + " vCPUs: no free slot (vm.maximumCpus)";
                    plug(qmp, chosen, 0, present, shortfall);
                });
    }

    private void plug(
            Qmp qmp, List<HotpluggableCpu> slots, int next, int present, String shortfall) {
        if (next == slots.size()) {
            reporter.report(
                    KEY,
                    shortfall == null
                            ? "applied (" + vcpus(present) + ")"
                            : "rejected in part: " + shortfall);
            return;
        }
        HotpluggableCpu slot = slots.get(next);
        loop.whenDone(
                qmp.addCpu(slot, "vcpu" + slotName(slot)),
                (ok, error) -> {
                    if (error != null) {
                        reporter.report(KEY, "rejected: " + error.getMessage());
                    } else {
                        plug(qmp, slots, next + 1, present + 1, shortfall);
                    }
                });
    }

    void remove(Qmp qmp, int present, int target) {
        loop.whenDone(
                qmp.queryHotpluggableCpus(),
                (slots, error) -> {
                    if (error != null) {
                        reporter.report(KEY, "rejected: " + error.getMessage());
                        return;
                    }
                    List<HotpluggableCpu> plugged = new ArrayList<>();
                    for (HotpluggableCpu slot : slots) {
                        if (slot.qomPath() != null
                                && slot.qomPath().startsWith("/machine/peripheral/")) {
                            plugged.add(slot);
                        }
                    }
                    plugged.sort(
                            (a, b) -> byTopology(b, a)); // highest slot, the last plugged, first
                    int count = Math.min(present - target, plugged.size());
                    for (HotpluggableCpu slot : plugged.subList(0, count)) {
                        String id = slot.qomPath().substring("/machine/peripheral/".length());
                        unpluggedSlots.add(slot.props().toString());
                        emptiedChanged.run();
                        loop.whenDone(
                                qmp.deleteDevice(id),
                                (ok, e) -> {
                                    if (e != null) {
                                        reporter.report(KEY, "rejected: " + e.getMessage());
                                    }
                                });
                    }
                    int expected = present - count;
                    awaitCount(
                            qmp,
                            expected,
                            loop.clock().nanoTime() + UNPLUG_WAIT.toNanos(),
                            count < present - target
                                    ? "rejected in part: only hot-plugged vCPUs can be"
                                            + " removed, "
                                            + expected
                                            + " remain"
                                    : null);
                });
    }

    private void awaitCount(Qmp qmp, int expected, long deadline, String shortfall) {
        loop.whenDone(
                qmp.queryCpusFast(),
                (cpus, error) -> {
                    if (error != null) {
                        reporter.report(KEY, "rejected: " + error.getMessage());
                    } else if (cpus.size() <= expected) {
                        reporter.report(
                                KEY,
                                shortfall != null
                                        ? shortfall
                                        : "applied (" + vcpus(cpus.size()) + ")");
                    } else if (loop.clock().nanoTime() - deadline > 0) {
                        reporter.report(
                                KEY,
                                "rejected: the guest did not release the vCPU within "
                                        + UNPLUG_WAIT.toSeconds()
                                        + " s ("
                                        + vcpus(cpus.size())
                                        + " remain)");
                    } else {
                        loop.schedule(POLL, () -> awaitCount(qmp, expected, deadline, shortfall));
                    }
                });
    }

    private static String vcpus(int count) {
        return count == 1 ? "1 vCPU" : count + " vCPUs";
    }

    private static int byTopology(HotpluggableCpu a, HotpluggableCpu b) {
        for (String prop : TOPOLOGY) {
            int order = Integer.compare(id(a, prop), id(b, prop));
            if (order != 0) {
                return order;
            }
        }
        return 0;
    }

    private static int id(HotpluggableCpu slot, String prop) {
        return slot.props().has(prop) ? slot.props().get(prop).getAsInt() : 0;
    }

    private static String slotName(HotpluggableCpu slot) {
        StringBuilder name = new StringBuilder();
        for (String prop : TOPOLOGY) {
            if (slot.props().has(prop)) {
                name.append('-').append(slot.props().get(prop).getAsString());
            }
        }
        return name.toString();
    }
}
