package dev.vmrunner.qmp;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.vmrunner.qmp.QmpException.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * Typed QMP commands, one method per command (QEMU's {@code qapi/*.json} names them). Every method
 * returns at once; the future fails with a {@link QmpException} (wrapped as usual by {@code
 * CompletableFuture}), including {@code PROTOCOL} when a reply lacks a field we need.
 */
public final class Qmp {
    private final QmpConnection connection;
    private final Duration timeout;
    private final Duration slowTimeout;

    /**
     * @param queryTimeout how long a query or a quick command may wait for its reply
     * @param slowTimeout the same for commands QEMU may take long over: {@code cont}, {@code
     *     device_add}, {@code device_del} and medium changes (seconds under TCG on a busy host)
     */
    public Qmp(QmpConnection connection, Duration queryTimeout, Duration slowTimeout) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.timeout = Objects.requireNonNull(queryTimeout, "queryTimeout");
        this.slowTimeout = Objects.requireNonNull(slowTimeout, "slowTimeout");
    }

    /** A façade with one timeout for every command. */
    public Qmp(QmpConnection connection, Duration timeout) {
        this(connection, timeout, timeout);
    }

    // ---- run state (qapi/run-state.json, qapi/misc.json) ----

    /**
     * {@code cont}: starts or resumes the vCPUs (also leaves {@code prelaunch} after {@code -S}).
     */
    public CompletableFuture<Void> cont() {
        return slow("cont", null);
    }

    /** {@code stop}: pauses the vCPUs. */
    public CompletableFuture<Void> stop() {
        return run("stop", null);
    }

    /** {@code system_powerdown}: presses the ACPI power button; the guest decides what happens. */
    public CompletableFuture<Void> systemPowerdown() {
        return run("system_powerdown", null);
    }

    /** {@code system_reset}: hard reset, like the reset button. */
    public CompletableFuture<Void> systemReset() {
        return run("system_reset", null);
    }

    /** The remote display's commands: passwords, their expiry, {@code query-spice}. */
    public QmpDisplay display() {
        return new QmpDisplay(connection, timeout);
    }

    /** The commands of a live migration. */
    public QmpMigration migration() {
        return new QmpMigration(connection, timeout);
    }

    /**
     * {@code quit}: QEMU exits at once. Its reply may lose the race with the socket closing, so a
     * disconnect also counts as success.
     */
    public CompletableFuture<Void> quit() {
        return connection
                .execute("quit", null, timeout)
                .handle(
                        (reply, error) -> {
                            Throwable cause = unwrap(error);
                            if (cause == null
                                    || cause instanceof QmpException q
                                            && q.kind() == Kind.DISCONNECTED) {
                                return null;
                            }
                            throw new CompletionException(cause);
                        });
    }

    /** {@code query-status}. */
    public CompletableFuture<VmStatus> queryStatus() {
        return query(
                "query-status",
                null,
                reply -> {
                    JsonObject o = reply.getAsJsonObject();
                    return new VmStatus(
                            o.get("status").getAsString(), o.get("running").getAsBoolean());
                });
    }

    // ---- balloon (qapi/machine.json) ----

    /** {@code balloon}: asks the guest's balloon driver to leave it {@code bytes} of RAM. */
    public CompletableFuture<Void> setBalloonTarget(long bytes) {
        return run("balloon", args("value", bytes));
    }

    /** {@code query-balloon}: the guest's current RAM size in bytes ({@code actual}). */
    public CompletableFuture<Long> queryBalloon() {
        return query(
                "query-balloon", null, reply -> reply.getAsJsonObject().get("actual").getAsLong());
    }

    // ---- CPUs (qapi/machine.json) ----

    /** {@code query-hotpluggable-cpus}: every CPU slot, free ones without a QOM path. */
    public CompletableFuture<List<HotpluggableCpu>> queryHotpluggableCpus() {
        return query(
                "query-hotpluggable-cpus",
                null,
                reply ->
                        list(
                                reply,
                                o ->
                                        new HotpluggableCpu(
                                                o.get("type").getAsString(),
                                                o.getAsJsonObject("props"),
                                                optionalString(o, "qom-path"))));
    }

    /**
     * {@code device_add} of a CPU into a free slot: the slot's {@code type} as driver plus its
     * {@code props}, as QEMU's docs/system/cpu-hotplug.rst shows. QEMU emits {@code
     * ACPI_DEVICE_OST} once the guest acknowledged; the guest must still online the CPU.
     */
    public CompletableFuture<Void> addCpu(HotpluggableCpu slot, String id) {
        JsonObject arguments = slot.props();
        arguments.addProperty("driver", slot.type());
        arguments.addProperty("id", id);
        return slow("device_add", arguments);
    }

    /**
     * {@code device_del}: requests an unplug; the guest completes it later. For CPUs on QEMU 7.2 no
     * {@code DEVICE_DELETED} arrives for the CPU itself, so confirm with {@link #queryCpusFast()}.
     */
    public CompletableFuture<Void> deleteDevice(String id) {
        return slow("device_del", args("id", id));
    }

    /** {@code query-cpus-fast}: the vCPUs present now. */
    public CompletableFuture<List<CpuInfo>> queryCpusFast() {
        return query(
                "query-cpus-fast",
                null,
                reply ->
                        list(
                                reply,
                                o ->
                                        new CpuInfo(
                                                o.get("cpu-index").getAsInt(),
                                                o.get("qom-path").getAsString())));
    }

    // ---- removable media (qapi/block.json) ----

    /** {@code query-block}. */
    public CompletableFuture<List<BlockInfo>> queryBlock() {
        return query("query-block", null, reply -> list(reply, Qmp::blockInfo));
    }

    private static BlockInfo blockInfo(JsonObject o) {
        JsonElement tray = o.get("tray_open");
        JsonObject inserted = o.has("inserted") ? o.getAsJsonObject("inserted") : null;
        return new BlockInfo(
                o.has("device") ? o.get("device").getAsString() : "",
                optionalString(o, "qdev"),
                o.has("removable") && o.get("removable").getAsBoolean(),
                o.has("locked") && o.get("locked").getAsBoolean(),
                tray == null ? null : tray.getAsBoolean(),
                inserted == null ? null : optionalString(inserted, "file"));
    }

    /**
     * {@code blockdev-open-tray}. Without {@code force}, a tray the guest locked stays closed: QEMU
     * asks the guest to eject and reports {@code DEVICE_TRAY_MOVED} if it does.
     */
    public CompletableFuture<Void> openTray(String qdevId, boolean force) {
        JsonObject arguments = args("id", qdevId);
        arguments.addProperty("force", force);
        return run("blockdev-open-tray", arguments);
    }

    /** {@code blockdev-close-tray}. */
    public CompletableFuture<Void> closeTray(String qdevId) {
        return run("blockdev-close-tray", args("id", qdevId));
    }

    /** {@code blockdev-remove-medium}: fails unless the tray is open. */
    public CompletableFuture<Void> removeMedium(String qdevId) {
        return run("blockdev-remove-medium", args("id", qdevId));
    }

    /**
     * Puts {@code file} (a raw image, e.g. an ISO) into the drive read-only and closes the tray.
     *
     * <p>Uses {@code blockdev-change-medium} without {@code force}: it opens the tray the way a
     * non-forced {@code blockdev-open-tray} does, so if the guest holds the tray locked it fails
     * ("Device ... is locked and force was not specified, wait for tray to open and try again") and
     * QEMU asks the guest to eject; nothing is swapped under a mounted filesystem. Retry after
     * {@code DEVICE_TRAY_MOVED} reports the tray open. {@code blockdev-insert-medium} would need a
     * {@code blockdev-add}ed node and a matching {@code blockdev-del} later, for no gain here. The
     * format is given explicitly because QEMU refuses to let a probed raw image write sector 0 and
     * warns about probing.
     */
    public CompletableFuture<Void> insertMedium(String qdevId, String file) {
        JsonObject arguments = args("id", qdevId);
        arguments.addProperty("filename", file);
        arguments.addProperty("format", "raw");
        arguments.addProperty("read-only-mode", "read-only");
        return slow("blockdev-change-medium", arguments);
    }

    // ---- helpers ----

    private CompletableFuture<Void> run(String command, JsonObject arguments) {
        return connection.execute(command, arguments, timeout).thenApply(reply -> null);
    }

    private CompletableFuture<Void> slow(String command, JsonObject arguments) {
        return connection.execute(command, arguments, slowTimeout).thenApply(reply -> null);
    }

    private <T> CompletableFuture<T> query(
            String command, JsonObject arguments, Function<JsonElement, T> parser) {
        return connection
                .execute(command, arguments, timeout)
                .thenApply(
                        reply -> {
                            try {
                                return parser.apply(reply);
                            } catch (
                                    RuntimeException e) { // missing member, wrong type: Gson throws
                                // unchecked exceptions
                                String text = String.valueOf(reply);
                                throw new CompletionException(
                                        new QmpException(
                                                Kind.PROTOCOL,
                                                "Failed to read reply to QMP command "
                                                        + command
                                                        + ": "
                                                        + e
                                                        + " in "
                                                        + (text.length() > 200
                                                                ? text.substring(0, 200) + "..."
                                                                : text),
                                                e));
                            }
                        });
    }

    private static <T> List<T> list(JsonElement reply, Function<JsonObject, T> item) {
        JsonArray array = reply.getAsJsonArray();
        List<T> items = new ArrayList<>(array.size());
        for (JsonElement element : array) {
            items.add(item.apply(element.getAsJsonObject()));
        }
        return List.copyOf(items);
    }

    private static String optionalString(JsonObject o, String member) {
        JsonElement value = o.get(member);
        return value == null || value.isJsonNull() ? null : value.getAsString();
    }

    private static JsonObject args(String member, String value) {
        JsonObject arguments = new JsonObject();
        arguments.addProperty(member, Objects.requireNonNull(value, member));
        return arguments;
    }

    private static JsonObject args(String member, long value) {
        JsonObject arguments = new JsonObject();
        arguments.addProperty(member, value);
        return arguments;
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null
                ? error.getCause()
                : error;
    }

    // ---- version (qapi/control.json) ----

    /** {@code query-version}: QEMU's version numbers. */
    public CompletableFuture<QemuVersion> queryVersion() {
        return query(
                "query-version",
                null,
                reply -> {
                    JsonObject qemu = reply.getAsJsonObject().getAsJsonObject("qemu");
                    return new QemuVersion(
                            qemu.get("major").getAsInt(),
                            qemu.get("minor").getAsInt(),
                            qemu.get("micro").getAsInt());
                });
    }
}
