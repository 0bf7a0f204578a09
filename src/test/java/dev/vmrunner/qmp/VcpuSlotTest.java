package dev.vmrunner.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VcpuSlotTest {

    private static VcpuSlot of(String json) {
        return VcpuSlot.of(JsonParser.parseString(json).getAsJsonObject());
    }

    @Test
    void readsTheTopologyPartsQemuListsAndNothingElse() {
        VcpuSlot slot = of("{\"node-id\": 0, \"socket-id\": 1, \"core-id\": 0, \"thread-id\": 0}");
        assertEquals(new VcpuSlot(1, null, 0, 0), slot);
        assertEquals("vcpu-1-0-0", slot.deviceId());
        assertEquals(
                JsonParser.parseString("{\"socket-id\": 1, \"core-id\": 0, \"thread-id\": 0}"),
                slot.toJson());
        assertEquals(slot, VcpuSlot.of(slot.toJson()));
    }

    @Test
    void aDieIsPartOfTheIdWhenListed() {
        assertEquals(
                "vcpu-0-1-2-3",
                of("{\"socket-id\": 0, \"die-id\": 1, \"core-id\": 2, \"thread-id\": 3}")
                        .deviceId());
    }

    @Test
    void ordersBySocketDieCoreThreadWithAbsentPartsAsZero() {
        List<VcpuSlot> slots =
                new ArrayList<>(
                        List.of(
                                new VcpuSlot(1, null, 0, 0),
                                new VcpuSlot(0, null, 1, 0),
                                new VcpuSlot(0, null, 0, 1),
                                new VcpuSlot(0, 1, 0, 0),
                                new VcpuSlot(0, null, 0, 0)));
        slots.sort(null);
        assertEquals(
                List.of(
                        new VcpuSlot(0, null, 0, 0),
                        new VcpuSlot(0, null, 0, 1),
                        new VcpuSlot(0, null, 1, 0),
                        new VcpuSlot(0, 1, 0, 0),
                        new VcpuSlot(1, null, 0, 0)),
                slots);
    }

    @Test
    void aPartThatIsNotANumberIsRefused() {
        JsonObject props = new JsonObject();
        props.addProperty("socket-id", "one");
        assertThrows(IllegalArgumentException.class, () -> VcpuSlot.of(props));
    }
}
