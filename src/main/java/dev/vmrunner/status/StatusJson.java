package dev.vmrunner.status;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The JSON contract of the status (docs/status.md): stable member names, bytes and counts. */
public final class StatusJson {

    private StatusJson() {}

    private static JsonObject migration(MigrationStatus m) {
        JsonObject o = new JsonObject();
        o.addProperty("role", m.role());
        o.addProperty("peer", m.peer());
        o.addProperty("status", m.status());
        o.addProperty("transferredBytes", m.transferredBytes());
        o.addProperty("remainingBytes", m.remainingBytes());
        o.addProperty("totalBytes", m.totalBytes());
        o.addProperty("dirtyPagesRate", m.dirtyPagesRate());
        o.addProperty("expectedDowntimeMs", m.expectedDowntimeMs());
        o.addProperty("downtimeMs", m.downtimeMs());
        o.addProperty("totalTimeMs", m.totalTimeMs());
        o.addProperty("result", m.result());
        return o;
    }

    public static JsonObject of(Status s) {
        JsonObject o = new JsonObject();
        o.addProperty("name", s.name());
        o.addProperty("state", s.state());
        o.addProperty("desiredState", s.desiredState());
        o.addProperty("ready", s.ready());
        time(o, "since", s.since());
        time(o, "runnerStarted", s.runnerStarted());
        o.addProperty("adopted", s.adoptedAt() != null);
        time(o, "adoptedAt", s.adoptedAt());
        JsonObject qemu = new JsonObject();
        qemu.addProperty("pid", s.qemuPid());
        o.add("qemu", qemu);
        if (s.swtpmPid() != null) {
            JsonObject swtpm = new JsonObject();
            swtpm.addProperty("pid", s.swtpmPid());
            o.add("swtpm", swtpm);
        }
        JsonObject ram = new JsonObject();
        ram.addProperty("maximum", s.ram().maximum());
        ram.addProperty("target", s.ram().target());
        ram.addProperty("actual", s.ram().actual());
        o.add("ram", ram);
        JsonObject cpus = new JsonObject();
        cpus.addProperty("maximum", s.cpus().maximum());
        cpus.addProperty("target", s.cpus().target());
        cpus.addProperty("present", s.cpus().present());
        o.add("cpus", cpus);
        JsonArray drives = new JsonArray();
        for (Status.Drive d : s.drives()) {
            JsonObject drive = new JsonObject();
            drive.addProperty("id", d.id());
            drive.addProperty("key", d.key());
            drive.addProperty("medium", d.medium());
            drive.addProperty("trayOpen", d.trayOpen());
            drive.addProperty("locked", d.locked());
            drive.addProperty("pending", d.pending());
            drives.add(drive);
        }
        o.add("drives", drives);
        o.add("pending", strings(s.pending()));
        o.add("needsRestart", strings(s.needsRestart()));
        JsonObject changes = new JsonObject();
        for (Map.Entry<String, String> e : s.lastChanges().entrySet()) {
            changes.addProperty(e.getKey(), e.getValue());
        }
        o.add("lastChanges", changes);
        time(o, "powerdownDeadline", s.powerdownDeadline());
        o.addProperty("lastError", s.lastError());
        if (s.guest() != null) {
            JsonObject guest = new JsonObject();
            guest.addProperty("booted", s.guest().booted());
            time(guest, "bootedAt", s.guest().bootedAt());
            guest.addProperty("os", s.guest().os());
            guest.addProperty("hostName", s.guest().hostName());
            guest.addProperty("timeZone", s.guest().timeZone());
            guest.add("addresses", strings(s.guest().addresses()));
            guest.addProperty("agentMisbehaving", s.guest().agentMisbehaving());
            guest.addProperty("agentDisconnects", s.guest().agentDisconnects());
            o.add("guest", guest);
        }
        if (s.migration() != null) {
            o.add("migration", migration(s.migration()));
        }
        if (s.display() != null) {
            JsonObject display = new JsonObject();
            display.addProperty("passwordSet", s.display().passwordSet());
            display.addProperty("passwordExpiry", s.display().passwordExpiry());
            display.addProperty("clients", s.display().clients());
            o.add("display", display);
        }
        if (s.rejectedEdit() != null) {
            JsonObject rejected = new JsonObject();
            time(rejected, "at", s.rejectedEdit().at());
            rejected.add("problems", strings(s.rejectedEdit().problems()));
            o.add("rejectedEdit", rejected);
        } else {
            o.add("rejectedEdit", JsonNull.INSTANCE);
        }
        return o;
    }

    private static void time(JsonObject o, String member, Instant time) {
        o.addProperty(member, time == null ? null : time.toString());
    }

    private static JsonArray strings(List<String> values) {
        JsonArray array = new JsonArray();
        values.forEach(array::add);
        return array;
    }
}
