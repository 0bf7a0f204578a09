package dev.vmrunner.qmp;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.time.Instant;

/**
 * Building and reading QMP messages (QEMU's docs/interop/qmp-spec.txt), tolerant of unknown
 * members.
 */
final class Frames {
    private Frames() {}

    /** Runs the code of this class once on sample frames; see {@link QmpConnection#warmUp()}. */
    static void warmUp() {
        JsonObject greeting =
                Frames.parse(
                        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0,"
                                + " \"major\": 0}, \"package\": \"\"}, \"capabilities\": []}}");
        JsonObject reply = Frames.parse("{\"return\": {}, \"id\": 0}");
        if (greeting == null
                || reply == null
                || Frames.redacted(Frames.command("cont", null, 0)).isEmpty()) {
            throw new IllegalStateException("the sample frames did not parse");
        }
    }

    static JsonObject command(String command, JsonObject arguments, long id) {
        JsonObject message = new JsonObject();
        message.addProperty("execute", command);
        if (arguments != null) {
            message.add("arguments", arguments);
        }
        message.addProperty("id", id);
        return message;
    }

    /** The message as text for the log, with any password argument replaced. */
    static String redacted(JsonObject message) {
        JsonElement arguments = message.get("arguments");
        if (arguments == null
                || !arguments.isJsonObject()
                || !arguments.getAsJsonObject().has("password")) {
            return message.toString();
        }
        JsonObject copy = message.deepCopy();
        copy.getAsJsonObject("arguments").addProperty("password", "(redacted)");
        return copy.toString();
    }

    /** The line as a JSON object, or null if it is not one. */
    static JsonObject parse(String line) {
        try {
            JsonElement element = JsonParser.parseString(line);
            return element.isJsonObject() ? element.getAsJsonObject() : null;
        } catch (JsonParseException e) {
            return null;
        }
    }

    static QmpEvent event(JsonObject message) {
        JsonElement data = message.get("data");
        return new QmpEvent(
                string(message, "event", "?"),
                data != null && data.isJsonObject() ? data.getAsJsonObject() : new JsonObject(),
                timestamp(message.get("timestamp")));
    }

    /** QMP timestamps are {@code {"seconds": s, "microseconds": us}} of the host clock. */
    private static Instant timestamp(JsonElement element) {
        try {
            JsonObject ts = element.getAsJsonObject();
            return Instant.ofEpochSecond(
                    ts.get("seconds").getAsLong(), ts.get("microseconds").getAsLong() * 1000);
        } catch (
                RuntimeException
                        e) { // absent or malformed: the arrival time is the next best thing
            return Instant.now();
        }
    }

    /** An {@code "error"} member as the exception its command fails with. */
    static QmpException error(String command, JsonElement error) {
        JsonObject e = error.isJsonObject() ? error.getAsJsonObject() : new JsonObject();
        return QmpException.errorReply(
                command, string(e, "class", "GenericError"), string(e, "desc", error.toString()));
    }

    private static String string(JsonObject object, String member, String fallback) {
        JsonElement value = object.get(member);
        return value != null && value.isJsonPrimitive() ? value.getAsString() : fallback;
    }

    static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }
}
