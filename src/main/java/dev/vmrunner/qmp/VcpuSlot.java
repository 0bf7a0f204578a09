package dev.vmrunner.qmp;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.Comparator;

/**
 * Where a vCPU sits in the machine's topology, as {@code query-hotpluggable-cpus} lists it in a
 * slot's {@code props}. A part the machine does not list (x86 lists {@code die-id} only with more
 * than one die) is null. Slots order by socket, die, core, thread, an absent part counting as 0,
 * which is the order a machine brings its CPUs up in.
 *
 * @param socket {@code socket-id}
 * @param die {@code die-id}
 * @param core {@code core-id}
 * @param thread {@code thread-id}
 */
public record VcpuSlot(Integer socket, Integer die, Integer core, Integer thread)
        implements Comparable<VcpuSlot> {

    private static final String[] PROPS = {"socket-id", "die-id", "core-id", "thread-id"};

    private static final Comparator<VcpuSlot> ORDER =
            Comparator.comparingInt((VcpuSlot s) -> orZero(s.socket))
                    .thenComparingInt(s -> orZero(s.die))
                    .thenComparingInt(s -> orZero(s.core))
                    .thenComparingInt(s -> orZero(s.thread));

    /**
     * The slot that {@code props} (QEMU's, or as {@link #toJson} wrote them) describe; other
     * properties ({@code node-id}) are not part of it.
     *
     * @throws IllegalArgumentException when a part is not an integer
     */
    public static VcpuSlot of(JsonObject props) {
        Integer[] parts = new Integer[PROPS.length];
        for (int i = 0; i < PROPS.length; i++) {
            JsonElement value = props.get(PROPS[i]);
            if (value != null && !value.isJsonNull()) {
                if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isNumber()) {
                    throw new IllegalArgumentException(PROPS[i] + " is not a number: " + value);
                }
                parts[i] = value.getAsInt();
            }
        }
        return new VcpuSlot(parts[0], parts[1], parts[2], parts[3]);
    }

    /** The parts QEMU listed, named as QEMU names them. */
    public JsonObject toJson() {
        JsonObject props = new JsonObject();
        Integer[] parts = parts();
        for (int i = 0; i < PROPS.length; i++) {
            if (parts[i] != null) {
                props.addProperty(PROPS[i], parts[i]);
            }
        }
        return props;
    }

    /**
     * The {@code id} a vCPU plugged here gets: {@code vcpu} and each listed part, e.g. {@code
     * vcpu-1-0-0} for socket 1, core 0, thread 0.
     */
    public String deviceId() {
        StringBuilder id = new StringBuilder("vcpu");
        for (Integer part : parts()) {
            if (part != null) {
                id.append('-').append(part);
            }
        }
        return id.toString();
    }

    @Override
    public int compareTo(VcpuSlot other) {
        return ORDER.compare(this, other);
    }

    private Integer[] parts() {
        return new Integer[] {socket, die, core, thread};
    }

    private static int orZero(Integer part) {
        return part == null ? 0 : part;
    }
}
