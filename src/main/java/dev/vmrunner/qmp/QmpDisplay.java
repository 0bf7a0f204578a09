package dev.vmrunner.qmp;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Typed QMP commands for the remote display: passwords and their expiry ({@code set_password},
 * {@code expire_password}) and {@code query-spice}. The password never reaches a log: the
 * connection redacts it from its frame log.
 */
public final class QmpDisplay {
    private final QmpConnection connection;
    private final Duration timeout;

    public QmpDisplay(QmpConnection connection, Duration timeout) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    /** {@code set_password}: {@code protocol} is {@code spice} or {@code vnc}. */
    public CompletableFuture<Void> setPassword(String protocol, String password) {
        JsonObject arguments = new JsonObject();
        arguments.addProperty("protocol", protocol);
        arguments.addProperty("password", password);
        return connection.execute("set_password", arguments, timeout).thenApply(r -> null);
    }

    /**
     * {@code expire_password}: {@code time} is {@code now}, {@code never}, {@code +SECONDS} or
     * SECONDS since the epoch.
     */
    public CompletableFuture<Void> expirePassword(String protocol, String time) {
        JsonObject arguments = new JsonObject();
        arguments.addProperty("protocol", protocol);
        arguments.addProperty("time", time);
        return connection.execute("expire_password", arguments, timeout).thenApply(r -> null);
    }

    /** {@code query-spice}. */
    public CompletableFuture<SpiceInfo> querySpice() {
        return connection.execute("query-spice", null, timeout).thenApply(QmpDisplay::spiceInfo);
    }

    private static SpiceInfo spiceInfo(JsonElement reply) {
        JsonObject o = reply.getAsJsonObject();
        JsonElement channels = o.get("channels");
        int clients = 0;
        if (channels != null && channels.isJsonArray()) {
            for (JsonElement c : channels.getAsJsonArray()) {
                JsonElement type = c.getAsJsonObject().get("channel-type");
                if (type != null && type.getAsInt() == 1) { // SPICE_CHANNEL_MAIN: one per client
                    clients++;
                }
            }
        }
        return new SpiceInfo(
                o.has("enabled") && o.get("enabled").getAsBoolean(),
                o.has("auth") ? o.get("auth").getAsString() : null,
                o.has("host") ? o.get("host").getAsString() : null,
                o.has("port") ? o.get("port").getAsInt() : null,
                clients);
    }
}
