package dev.vmrunner.qmp;

import com.google.gson.JsonObject;

/**
 * One CPU slot from {@code query-hotpluggable-cpus}.
 *
 * @param type the CPU device type to {@code device_add}, e.g. {@code max-x86_64-cpu}
 * @param props the slot's location ({@code socket-id}, {@code core-id}, {@code thread-id}, ...); a
 *     private copy
 * @param qomPath the plugged CPU's QOM path, or null when the slot is free
 */
public record HotpluggableCpu(String type, JsonObject props, String qomPath) {
    public HotpluggableCpu {
        props = props.deepCopy();
    }

    /** The slot's properties; a copy, so callers may change it. */
    @Override
    public JsonObject props() {
        return props.deepCopy();
    }

    /** Where the slot sits in the topology. */
    public VcpuSlot slot() {
        return VcpuSlot.of(props);
    }

    /** True when no CPU occupies the slot. */
    public boolean isFree() {
        return qomPath == null;
    }
}
