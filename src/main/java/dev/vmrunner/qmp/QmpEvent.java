package dev.vmrunner.qmp;

import com.google.gson.JsonObject;
import java.time.Instant;

/**
 * An asynchronous QMP event such as {@code SHUTDOWN} or {@code DEVICE_TRAY_MOVED}.
 *
 * @param name the event name, e.g. {@code "POWERDOWN"}
 * @param data the event's {@code "data"} member; an empty object when QEMU sent none. Treat it as
 *     read-only: it is shared with every consumer of the event.
 * @param timestamp QEMU's host-clock timestamp of the event
 */
public record QmpEvent(String name, JsonObject data, Instant timestamp) {}
