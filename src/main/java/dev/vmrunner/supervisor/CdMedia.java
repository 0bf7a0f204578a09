package dev.vmrunner.supervisor;

import com.google.gson.JsonObject;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.QmpEvent;
import java.util.HashMap;
import java.util.Map;

/**
 * CD media changes. A guest that has mounted the CD keeps the tray locked; the runner never forces
 * it open under a mounted filesystem. The change then waits until the guest ejects (QMP {@code
 * DEVICE_TRAY_MOVED}, tray open) and completes without further edits; a newer change replaces a
 * waiting one.
 */
final class CdMedia {

    /** A change waiting for the guest to open the tray. */
    private record Pending(String key, String file) {}

    private final Loop loop;
    private final LiveConfig.Reporter reporter;
    private final Map<String, Pending> pending = new HashMap<>();

    CdMedia(Loop loop, LiveConfig.Reporter reporter) {
        this.loop = loop;
        this.reporter = reporter;
    }

    /** Puts {@code file} into the drive, or empties it when {@code file} is null. */
    void change(Qmp qmp, String key, String qdevId, String file) {
        Pending replaced = pending.remove(qdevId);
        if (replaced != null && !replaced.key().equals(key)) {
            reporter.report(replaced.key(), "replaced by a newer change");
        }
        if (file != null) {
            loop.whenDone(
                    qmp.insertMedium(qdevId, file),
                    (ok, error) ->
                            settle(key, qdevId, file, error, "applied (medium " + file + ")"));
        } else {
            // Not forced: a locked tray stays closed and QEMU asks the guest to eject.
            loop.whenDone(
                    qmp.openTray(qdevId, false),
                    (ok, error) -> {
                        if (error != null) {
                            reporter.report(key, "rejected: " + error.getMessage());
                            return;
                        }
                        loop.whenDone(
                                qmp.removeMedium(qdevId),
                                (removed, notOpen) -> {
                                    if (notOpen == null) {
                                        loop.whenDone(qmp.closeTray(qdevId), (closed, e) -> {});
                                    }
                                    settle(key, qdevId, null, notOpen, "applied (ejected)");
                                });
                    });
        }
    }

    private void settle(String key, String qdevId, String file, Throwable error, String done) {
        if (error == null) {
            reporter.report(key, done);
        } else if (isLockedOrClosed(error)) {
            pending.put(qdevId, new Pending(key, file));
            reporter.report(
                    key,
                    "pending: the guest has locked the tray of "
                            + qdevId
                            + " (the medium is in use); the change completes when the guest ejects"
                            + " it");
        } else {
            reporter.report(key, "rejected: " + error.getMessage());
        }
    }

    /** The tray opened: a waiting change can complete now. */
    void onEvent(Qmp qmp, QmpEvent event) {
        if (!"DEVICE_TRAY_MOVED".equals(event.name())) {
            return;
        }
        JsonObject data = event.data();
        if (!data.has("id") || !data.has("tray-open") || !data.get("tray-open").getAsBoolean()) {
            return;
        }
        String qdevId = data.get("id").getAsString();
        Pending waiting = pending.remove(qdevId);
        if (waiting != null) {
            change(qmp, waiting.key(), qdevId, waiting.file());
        }
    }

    private static boolean isLockedOrClosed(Throwable error) {
        String message = String.valueOf(error.getMessage());
        return message.contains("is locked") || message.contains("not open");
    }
}
