package dev.vmrunner.qmp;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/** Typed QMP commands of a live migration (qapi/migration.json). */
public final class QmpMigration {
    private final QmpConnection connection;
    private final Duration timeout;

    public QmpMigration(QmpConnection connection, Duration timeout) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    /** {@code migrate-set-capabilities}: each capability on or off. */
    public CompletableFuture<Void> setCapabilities(Map<String, Boolean> capabilities) {
        JsonArray list = new JsonArray();
        capabilities.forEach(
                (name, on) -> {
                    JsonObject c = new JsonObject();
                    c.addProperty("capability", name);
                    c.addProperty("state", on);
                    list.add(c);
                });
        JsonObject arguments = new JsonObject();
        arguments.add("capabilities", list);
        return run("migrate-set-capabilities", arguments);
    }

    /**
     * {@code migrate-set-parameters}: {@code downtime-limit} in milliseconds and, when above 0,
     * {@code max-bandwidth} in bytes per second.
     */
    public CompletableFuture<Void> setLimits(long downtimeLimitMs, long maxBandwidthBytes) {
        JsonObject arguments = new JsonObject();
        arguments.addProperty("downtime-limit", downtimeLimitMs);
        if (maxBandwidthBytes > 0) {
            arguments.addProperty("max-bandwidth", maxBandwidthBytes);
        }
        return run("migrate-set-parameters", arguments);
    }

    /** {@code migrate}: starts sending the VM to {@code uri}; returns once it has begun. */
    public CompletableFuture<Void> migrate(String uri) {
        return run("migrate", args(uri));
    }

    /**
     * {@code migrate-incoming}: a QEMU started with {@code -incoming defer} listens at {@code uri}.
     */
    public CompletableFuture<Void> migrateIncoming(String uri) {
        return run("migrate-incoming", args(uri));
    }

    /** {@code migrate_cancel}: the outgoing migration ends; the guest runs on here. */
    public CompletableFuture<Void> cancel() {
        return run("migrate_cancel", null);
    }

    /** {@code query-migrate}. */
    public CompletableFuture<MigrationInfo> query() {
        return connection.execute("query-migrate", null, timeout).thenApply(QmpMigration::info);
    }

    static MigrationInfo info(JsonElement reply) {
        JsonObject o = reply.getAsJsonObject();
        JsonObject ram = o.has("ram") ? o.getAsJsonObject("ram") : new JsonObject();
        return new MigrationInfo(
                o.has("status") ? o.get("status").getAsString() : "none",
                number(ram, "transferred"),
                number(ram, "remaining"),
                number(ram, "total"),
                number(ram, "dirty-pages-rate"),
                number(o, "expected-downtime"),
                number(o, "downtime"),
                number(o, "total-time"),
                o.has("error-desc") ? o.get("error-desc").getAsString() : null);
    }

    private static long number(JsonObject o, String member) {
        JsonElement value = o.get(member);
        return value == null || !value.isJsonPrimitive() ? 0 : value.getAsLong();
    }

    private static JsonObject args(String uri) {
        JsonObject arguments = new JsonObject();
        arguments.addProperty("uri", uri);
        return arguments;
    }

    private CompletableFuture<Void> run(String command, JsonObject arguments) {
        return connection.execute(command, arguments, timeout).thenApply(reply -> null);
    }
}
