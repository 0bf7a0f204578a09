package dev.vmrunner.supervisor.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.vmrunner.qmp.HotpluggableCpu;
import dev.vmrunner.qmp.QemuVersion;
import dev.vmrunner.qmp.VcpuSlot;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which vCPU slots a plug uses, on QEMU 7.2 and 10 (facts in CpuReplugPolicy). */
class CpuPluggingChoiceTest {
    static final QemuVersion QEMU_7_2 = new QemuVersion(7, 2, 22);
    static final QemuVersion QEMU_10 = new QemuVersion(10, 0, 13);

    /** Slots 0..count-1, the first {@code plugged} occupied, listed highest first as QEMU does. */
    static List<HotpluggableCpu> slots(int count, int plugged) {
        List<HotpluggableCpu> slots = new ArrayList<>();
        for (int i = count - 1; i >= 0; i--) {
            slots.add(
                    new HotpluggableCpu(
                            "max-x86_64-cpu",
                            props(i),
                            i < plugged ? "/machine/unattached/x" : null));
        }
        return slots;
    }

    static JsonObject props(int socket) {
        JsonObject props = new JsonObject();
        props.addProperty("socket-id", socket);
        props.addProperty("core-id", 0);
        props.addProperty("thread-id", 0);
        return props;
    }

    static VcpuSlot slot(int socket) {
        return VcpuSlot.of(props(socket));
    }

    static CpuPlugging.Run run(
            QemuVersion version, String accel, Set<VcpuSlot> emptied, int unplugs) {
        return new CpuPlugging.Run(version, accel, 4, emptied, false, unplugs);
    }

    static List<Integer> sockets(CpuPlugging.Choice choice) {
        return choice.slots().stream().map(s -> s.slot().socket()).toList();
    }

    @Test
    void withoutUnplugsFillsFromTheLowestFreeSlotOnBothVersions() {
        for (QemuVersion version : new QemuVersion[] {QEMU_7_2, QEMU_10, null}) {
            CpuPlugging.Choice choice =
                    CpuPlugging.choose(slots(4, 1), run(version, "tcg", Set.of(), 0), 1, 3);
            assertEquals(List.of(1, 2), sockets(choice));
            assertNull(choice.shortfall());
        }
    }

    @Test
    void qemu72PlugsNothingAfterAnUnplugNotEvenANeverUsedSlot() {
        // vCPU in socket 1 unplugged: 1 present, slots 1..3 free, 1 emptied.
        Set<VcpuSlot> emptied = Set.of(slot(1));
        CpuPlugging.Choice choice =
                CpuPlugging.choose(slots(4, 1), run(QEMU_7_2, "tcg", emptied, 1), 1, 2);
        assertEquals(List.of(), choice.slots());
        assertTrue(choice.shortfall().contains("QEMU 7.2.22 aborts"), choice.shortfall());
    }

    @Test
    void unknownVersionKeepsTheOldRule() {
        Set<VcpuSlot> emptied = Set.of(slot(1));
        CpuPlugging.Choice choice =
                CpuPlugging.choose(slots(4, 1), run(null, "kvm", emptied, 1), 1, 2);
        assertEquals(List.of(), choice.slots());
        assertTrue(choice.shortfall().contains("version unknown"), choice.shortfall());
    }

    @Test
    void qemu10ReplugsAnEmptiedSlotWithinTheTcgBudget() {
        // maxcpus 4: started with 1, plugged 1, unplugged it: 2 created, 2 left.
        Set<VcpuSlot> emptied = Set.of(slot(1));
        CpuPlugging.Choice choice =
                CpuPlugging.choose(slots(4, 1), run(QEMU_10, "tcg", emptied, 1), 1, 2);
        assertEquals(List.of(1), sockets(choice));
        assertNull(choice.shortfall());
    }

    @Test
    void qemu10StopsAtTheTcgBudgetThatRePlugsUseUp() {
        // maxcpus 4, 1 present, 2 unplugs so far: 3 created, one more plug fits, not three.
        Set<VcpuSlot> emptied = Set.of(slot(1), slot(2));
        CpuPlugging.Choice choice =
                CpuPlugging.choose(slots(4, 1), run(QEMU_10, "tcg", emptied, 2), 1, 4);
        assertEquals(List.of(1), sockets(choice));
        assertTrue(choice.shortfall().startsWith("only 2 vCPUs: under TCG"), choice.shortfall());
    }

    @Test
    void qemu10UnderKvmHasNoBudget() {
        Set<VcpuSlot> emptied = Set.of(slot(1), slot(2));
        CpuPlugging.Choice choice =
                CpuPlugging.choose(slots(4, 1), run(QEMU_10, "kvm", emptied, 5), 1, 4);
        assertEquals(List.of(1, 2, 3), sockets(choice));
        assertNull(choice.shortfall());
    }

    @Test
    void qemu10AdoptedWithUnknownUnplugsDoesNotPlugUnderTcg() {
        Set<VcpuSlot> emptied = Set.of(slot(1));
        CpuPlugging.Choice choice =
                CpuPlugging.choose(slots(4, 1), run(QEMU_10, "tcg", emptied, -1), 1, 2);
        assertEquals(List.of(), choice.slots());
        assertTrue(choice.shortfall().contains("earlier runner"), choice.shortfall());
    }

    @Test
    void noFreeSlotIsSaidSo() {
        CpuPlugging.Choice choice =
                CpuPlugging.choose(slots(2, 1), run(QEMU_10, "tcg", Set.of(), 0), 1, 3);
        assertEquals(List.of(1), sockets(choice));
        assertEquals("only 2 vCPUs: no free slot (vm.maximumCpus)", choice.shortfall());
    }
}
