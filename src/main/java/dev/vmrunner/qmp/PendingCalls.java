package dev.vmrunner.qmp;

import com.google.gson.JsonElement;
import dev.vmrunner.qmp.QmpException.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Commands awaiting their reply, by id, plus the connection's open/established/closed state, kept
 * under one lock so that a command is either registered before the close drains the table or
 * refused; and the timeout of each call.
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

    /**
     * Completes {@code result} as {@code call}'s reply does, or with {@code TIMEOUT} once {@code
     * timeoutNanos} passed without it; a late reply to {@code key} is then dropped.
     */
    void relayWithin(
            String key, Call call, long timeoutNanos, CompletableFuture<JsonElement> result) {
        String command = call.command();
        // orTimeout uses the JDK's shared delayer thread and cancels its timer once the reply
        // arrives.
        var unused =
                call.reply()
                        .orTimeout(timeoutNanos, TimeUnit.NANOSECONDS)
                        .whenComplete(
                                (value, error) -> {
                                    Throwable cause =
                                            error instanceof CompletionException
                                                            && error.getCause() != null
                                                    ? error.getCause()
                                                    : error;
                                    if (cause == null) {
                                        result.complete(value);
                                    } else if (cause instanceof TimeoutException) {
                                        remove(key); // a late reply is then dropped
                                        result.completeExceptionally(
                                                new QmpException(
                                                        Kind.TIMEOUT,
                                                        "Failed to run QMP command "
                                                                + command
                                                                + ": no reply within "
                                                                + TimeUnit.NANOSECONDS.toMillis(
                                                                        timeoutNanos)
                                                                + " ms",
                                                        null));
                                    } else {
                                        result.completeExceptionally(cause);
                                    }
                                });
    }

    /** Fails the call waiting for {@code key}, if it still waits. */
    void fail(String key, QmpException error) {
        Call call = remove(key);
        if (call != null) {
            call.reply().completeExceptionally(error);
        }
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
