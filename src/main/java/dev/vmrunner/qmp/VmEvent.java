package dev.vmrunner.qmp;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * QMP events as typed records, so that callers never read QEMU's JSON. Events the runner does not
 * act on arrive as {@link Other}. Unknown or missing members get safe defaults: newer QEMUs add
 * members, and a malformed event must not throw on the reader thread.
 */
public sealed interface VmEvent {

    /**
     * {@code SHUTDOWN}: QEMU is about to stop the VM (qapi/run-state.json).
     *
     * @param guest true when the guest asked for it (ACPI power-off, triple fault, ...)
     * @param reason QEMU's ShutdownCause, e.g. {@code guest-shutdown}, {@code host-signal}
     */
    record Shutdown(boolean guest, String reason) implements VmEvent {
        /** The guest powered itself off (ACPI S5), as after the power button or `poweroff`. */
        public boolean guestPoweredOff() {
            return guest && "guest-shutdown".equals(reason);
        }
    }

    /** {@code POWERDOWN}: the ACPI power button was pressed ({@code system_powerdown}). */
    record Powerdown() implements VmEvent {}

    /** {@code RESET}: the VM was reset; {@code guest} when the guest asked for it. */
    record Reset(boolean guest, String reason) implements VmEvent {}

    /** {@code DEVICE_TRAY_MOVED}: a removable medium's tray opened or closed. */
    record TrayMoved(String qdevId, boolean open) implements VmEvent {}

    /** {@code BALLOON_CHANGE}: the guest's RAM size moved (throttled by QEMU to one a second). */
    record BalloonChange(long actualBytes) implements VmEvent {}

    /** {@code DEVICE_DELETED}: the guest released a device after {@code device_del}. */
    record DeviceDeleted(String device) implements VmEvent {}

    /** {@code STOP} / {@code RESUME}: the vCPUs paused or resumed. */
    record RunStateChanged(boolean running) implements VmEvent {}

    /**
     * {@code SPICE_CONNECTED}, {@code SPICE_INITIALIZED}, {@code SPICE_DISCONNECTED}: a SPICE
     * client opened or closed one of its channels.
     */
    record SpiceClient(boolean connected) implements VmEvent {}

    /** {@code VSERPORT_CHANGE}: the guest opened or closed a virtio-serial port. */
    record SerialPortChanged(String device, boolean open) implements VmEvent {}

    /** Any other event, by name. */
    record Other(String name) implements VmEvent {}

    /** The typed form of a QMP event. */
    static VmEvent of(QmpEvent event) {
        JsonObject data = event.data() == null ? new JsonObject() : event.data();
        return switch (event.name()) {
            case "SHUTDOWN" -> new Shutdown(bool(data, "guest"), string(data, "reason"));
            case "POWERDOWN" -> new Powerdown();
            case "RESET" -> new Reset(bool(data, "guest"), string(data, "reason"));
            case "DEVICE_TRAY_MOVED" ->
                    new TrayMoved(
                            string(data, "id").isEmpty()
                                    ? string(data, "device")
                                    : string(data, "id"),
                            bool(data, "tray-open"));
            case "BALLOON_CHANGE" -> new BalloonChange(number(data, "actual"));
            case "DEVICE_DELETED" -> new DeviceDeleted(string(data, "device"));
            case "STOP" -> new RunStateChanged(false);
            case "RESUME" -> new RunStateChanged(true);
            case "SPICE_CONNECTED", "SPICE_INITIALIZED" -> new SpiceClient(true);
            case "SPICE_DISCONNECTED" -> new SpiceClient(false);
            case "VSERPORT_CHANGE" -> new SerialPortChanged(string(data, "id"), bool(data, "open"));
            default -> new Other(event.name());
        };
    }

    private static boolean bool(JsonObject data, String member) {
        JsonElement value = data.get(member);
        return value != null
                && value.isJsonPrimitive()
                && value.getAsJsonPrimitive().isBoolean()
                && value.getAsBoolean();
    }

    private static String string(JsonObject data, String member) {
        JsonElement value = data.get(member);
        return value != null && value.isJsonPrimitive() ? value.getAsString() : "";
    }

    private static long number(JsonObject data, String member) {
        JsonElement value = data.get(member);
        return value != null && value.isJsonPrimitive() && value.getAsJsonPrimitive().isNumber()
                ? value.getAsLong()
                : -1;
    }
}
