package dev.vmrunner.agent;

import com.google.gson.JsonObject;

/**
 * What {@code guest-get-osinfo} tells (os-release and uname); absent members are null.
 *
 * @param id e.g. {@code debian}
 * @param prettyName e.g. {@code Debian GNU/Linux 12 (bookworm)}
 * @param kernelRelease e.g. {@code 6.1.0-57-amd64}
 */
public record OsInfo(
        String id,
        String name,
        String prettyName,
        String version,
        String versionId,
        String kernelRelease,
        String kernelVersion,
        String machine) {

    static OsInfo from(JsonObject o) {
        return new OsInfo(
                Replies.stringOr(o, "id", null),
                Replies.stringOr(o, "name", null),
                Replies.stringOr(o, "pretty-name", null),
                Replies.stringOr(o, "version", null),
                Replies.stringOr(o, "version-id", null),
                Replies.stringOr(o, "kernel-release", null),
                Replies.stringOr(o, "kernel-version", null),
                Replies.stringOr(o, "machine", null));
    }

    /** The pretty name, else name and version, else the id; for logs. */
    public String describe() {
        if (prettyName != null) {
            return prettyName;
        }
        if (name != null) {
            return version == null ? name : name + " " + version;
        }
        return id == null ? "unknown OS" : id;
    }
}
