package dev.vmrunner.agent;

import com.google.gson.JsonObject;

/**
 * What {@code guest-get-timezone} tells.
 *
 * @param zone the zone's name (e.g. {@code CET}); null if the guest gives none
 * @param offsetSeconds the offset from UTC, east positive
 */
public record GuestTimeZone(String zone, long offsetSeconds) {
    static GuestTimeZone from(JsonObject o) {
        if (!o.has("offset")) {
            throw new IllegalStateException("no \"offset\" in " + o);
        }
        return new GuestTimeZone(Replies.stringOr(o, "zone", null), Replies.longOr(o, "offset", 0));
    }
}
