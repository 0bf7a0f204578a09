package dev.vmrunner.agent;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/** Reading members of agent answers; a missing required member is a protocol error. */
final class Replies {
    private Replies() {}

    static String string(JsonObject o, String member) {
        String s = stringOr(o, member, null);
        if (s == null) {
            throw new IllegalStateException("no string member \"" + member + "\" in " + o);
        }
        return s;
    }

    static String stringOr(JsonObject o, String member, String fallback) {
        JsonElement e = o.get(member);
        return e != null && e.isJsonPrimitive() ? e.getAsString() : fallback;
    }

    static long longOr(JsonObject o, String member, long fallback) {
        JsonElement e = o.get(member);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()
                ? e.getAsLong()
                : fallback;
    }
}
