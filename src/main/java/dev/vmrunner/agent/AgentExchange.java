package dev.vmrunner.agent;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.vmrunner.agent.AgentException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.logging.Logger;

/**
 * One request of {@link GuestAgent} and what the worker reads until its answer, bounded by a
 * deadline: the wire side of a call (the sync, the request line, matching the reply's id), while
 * {@link GuestAgent} keeps the queue and the connection's state.
 */
final class AgentExchange {
    // the client's logger: these lines have always been logged under its name
    private static final Logger LOG = Logger.getLogger(GuestAgent.class.getName());

    private final AgentChannel channel;
    private final Duration limit;
    private final long deadline;

    private final int maxStale;
    private int stale;

    AgentExchange(AgentChannel channel, Duration limit, int unanswered) {
        this.channel = channel;
        this.limit = limit;
        this.deadline = System.nanoTime() + limit.toNanos();
        this.maxStale = GuestAgent.MAX_STALE_LINES + unanswered;
        channel.beginExchange(unanswered);
    }

    void sync(long id) throws AgentException, InterruptedException {
        String request = "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":" + id + "}}";
        byte[] line = (request + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[line.length + 1];
        bytes[0] = AgentChannel.DELIMITER;
        System.arraycopy(line, 0, bytes, 1, line.length);
        channel.drain();
        write("guest-sync-delimited", bytes, "(0xFF) " + request);
        boolean delimited = false;
        while (true) {
            Inbound in = next("guest-sync-delimited");
            if (in instanceof Inbound.Delimiter) {
                delimited = true;
            } else if (in instanceof Inbound.Line l) {
                JsonObject m = parse(l.text());
                JsonElement r = m == null ? null : m.get("return");
                if (delimited && r != null && r.isJsonPrimitive() && isId(r, id)) {
                    return;
                }
                skipped("Discarding stale guest agent output: ", l.text());
            }
        }
    }

    JsonElement call(String command, JsonObject arguments, long id)
            throws AgentException, InterruptedException {
        send(command, arguments, id);
        while (true) {
            JsonObject reply = nextReply(command, id);
            if (reply != null) {
                return answer(command, reply);
            }
        }
    }

    void callWithoutReply(String command, JsonObject arguments, long id)
            throws AgentException, InterruptedException {
        send(command, arguments, id);
        try {
            while (true) {
                JsonObject reply = nextReply(command, id);
                if (reply != null) {
                    answer(command, reply);
                    return;
                }
            }
        } catch (AgentException e) {
            if (e.kind() != Kind.TIMEOUT && e.kind() != Kind.DISCONNECTED) {
                throw e;
            }
            // no answer is the answer; the guest going away is too
        }
    }

    private void send(String command, JsonObject arguments, long id) throws AgentException {
        JsonObject request = new JsonObject();
        request.addProperty("execute", command);
        if (arguments != null) {
            request.add("arguments", arguments);
        }
        request.addProperty("id", id);
        String text = request.toString();
        channel.drain();
        write(command, (text + "\n").getBytes(StandardCharsets.UTF_8), text);
    }

    /** The reply to our request, or null for something to skip. */
    private JsonObject nextReply(String command, long id)
            throws AgentException, InterruptedException {
        Inbound in = next(command);
        if (!(in instanceof Inbound.Line l)) {
            return null;
        }
        JsonObject m = parse(l.text());
        if (m == null || !(m.has("return") || m.has("error"))) {
            skipped("Ignoring guest agent output: ", l.text());
            return null;
        }
        JsonElement replyId = m.get("id");
        // Replies carry the request's id; one without (older agents) is ours, as we are synced
        if (replyId != null && !(replyId.isJsonPrimitive() && isId(replyId, id))) {
            skipped("Discarding a stale guest agent reply: ", l.text());
            return null;
        }
        return m;
    }

    /** A line that answers nothing we asked: a few are stale answers, many a flood. */
    private void skipped(String why, String text) throws AgentException {
        LOG.fine(() -> why + text);
        if (++stale > maxStale) {
            throw new AgentException(
                    Kind.MISBEHAVING,
                    "The guest agent sent more than "
                            + maxStale
                            + " lines that answer no request (wrong ids, or not JSON)",
                    null);
        }
    }

    private static JsonElement answer(String command, JsonObject reply) throws AgentException {
        JsonElement error = reply.get("error");
        if (error != null) {
            JsonObject e = error.isJsonObject() ? error.getAsJsonObject() : new JsonObject();
            throw AgentException.errorReply(
                    command,
                    Replies.stringOr(e, "class", "GenericError"),
                    Replies.stringOr(e, "desc", error.toString()));
        }
        return reply.get("return");
    }

    private void write(String command, byte[] bytes, String logText) throws AgentException {
        try {
            channel.write(bytes, logText);
        } catch (IOException e) {
            throw new AgentException(
                    Kind.DISCONNECTED,
                    "Failed to run guest agent command "
                            + command
                            + ": connection to "
                            + channel.socket()
                            + " lost: "
                            + e.getMessage(),
                    e);
        }
    }

    private Inbound next(String command) throws AgentException, InterruptedException {
        Inbound in = channel.next(command, deadline);
        if (in == null) {
            throw new AgentException(
                    Kind.TIMEOUT,
                    "Failed to run guest agent command "
                            + command
                            + ": no answer within "
                            + limit.toMillis()
                            + " ms (no agent running in the guest?)",
                    null);
        }
        return in;
    }

    private static boolean isId(JsonElement e, long id) {
        try {
            return e.getAsJsonPrimitive().isNumber() && e.getAsLong() == id;
        } catch (NumberFormatException ex) {
            return false;
        }
    }

    private static JsonObject parse(String line) {
        try {
            JsonElement e = JsonParser.parseString(line);
            return e.isJsonObject() ? e.getAsJsonObject() : null;
        } catch (JsonParseException e) {
            return null;
        }
    }
}
