package dev.vmrunner.qmp;

import com.google.gson.JsonElement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Commands awaiting their reply, by id, plus the connection's open/established/closed state, kept
 * under one lock so that a command is either registered before the close drains the table or
 * refused.
 */
final class PendingCalls {
    record Call(String command, CompletableFuture<JsonElement> reply) {}

    /** What {@link #closeAll()} found. */
    record Drained(List<Call> calls, boolean wasEstablished) {}

    private final Map<String, Call> calls = new HashMap<>();
    private boolean established;
    private volatile boolean closed;

    /** Registers a call; false once closed. */
    synchronized boolean add(String id, Call call) {
        if (closed) {
            return false;
        }
        calls.put(id, call);
        return true;
    }

    /**
     * The call waiting for {@code id}, now no longer pending; null if none (never sent, or timed
     * out).
     */
    synchronized Call remove(String id) {
        return calls.remove(id);
    }

    /**
     * Marks negotiation done, from which point the listener is owed onDisconnect; false if already
     * closed.
     */
    synchronized boolean establish() {
        if (closed) {
            return false;
        }
        established = true;
        return true;
    }

    boolean isClosed() {
        return closed;
    }

    /** Closes the table and empties it; the caller fails what it returns. */
    synchronized Drained closeAll() {
        closed = true;
        List<Call> drained = new ArrayList<>(calls.values());
        calls.clear();
        return new Drained(drained, established);
    }
}
