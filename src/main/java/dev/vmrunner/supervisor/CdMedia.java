package dev.vmrunner.supervisor;

import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.VmEvent;
import java.util.HashMap;
import java.util.Map;

/**
 * CD media changes. A guest that has mounted the CD keeps the tray locked, and the runner then
 * sends QEMU nothing for that drive: a non-forced open of a locked tray (also inside {@code
 * blockdev-change-medium}) makes QEMU send the guest an eject request, and Debian's udev answers
 * one by ejecting even a mounted disc (60-cdrom_id.rules). The change waits until the guest ejects
 * by itself ({@code DEVICE_TRAY_MOVED}, tray open); the caller then reconciles again, which
 * completes it. A newer change replaces a waiting one.
 */
final class CdMedia {

    private final Loop loop;
    private final LiveConfig.Reporter reporter;

    /** Drives whose change waits for the guest to eject: qdev id → configuration key. */
    private final Map<String, String> waiting = new HashMap<>();

    CdMedia(Loop loop, LiveConfig.Reporter reporter) {
        this.loop = loop;
        this.reporter = reporter;
    }

    /** Puts {@code file} into the drive, or empties it when {@code file} is null. */
    void change(Qmp qmp, String key, String qdevId, String file) {
        waiting.remove(qdevId);
        if (file != null) {
            loop.whenDone(
                    qmp.insertMedium(qdevId, file),
                    (ok, error) -> done(key, error, "applied (medium " + file + ")"));
            return;
        }
        // The tray is not locked (else the change would wait): it opens without asking the guest.
        loop.whenDone(
                qmp.openTray(qdevId, false),
                (opened, error) -> {
                    if (error != null) {
                        done(key, error, null);
                        return;
                    }
                    loop.whenDone(
                            qmp.removeMedium(qdevId),
                            (removed, notRemoved) -> {
                                if (notRemoved == null) {
                                    loop.whenDone(qmp.closeTray(qdevId), (closed, e) -> {});
                                }
                                done(key, notRemoved, "applied (ejected)");
                            });
                });
    }

    /**
     * The guest holds the tray locked: wait for its own eject. With {@code requestEject} ({@code
     * lockedTray: eject-request}) the drive's eject button is pressed once first: a non-forced
     * {@code blockdev-open-tray} of a locked tray sends the guest an eject request (QEMU answers
     * with an error, as the tray has not opened yet), and the guest decides.
     */
    void awaitEject(Qmp qmp, String key, String qdevId, boolean requestEject) {
        boolean already = key.equals(waiting.put(qdevId, key));
        if (requestEject && !already) {
            loop.whenDone(qmp.openTray(qdevId, false), (ok, error) -> {});
        }
        reporter.report(
                key,
                "pending: the guest has locked the tray of "
                        + qdevId
                        + " (the medium is in use); "
                        + (requestEject
                                ? "the guest was asked to eject it (lockedTray: eject-request); the"
                                        + " change completes when it does"
                                : "the change completes when the guest ejects it")
                        + (already ? " (replaces the change that was waiting)" : ""));
    }

    /** The keys of the changes that wait for the guest. */
    Map<String, String> waiting() {
        return Map.copyOf(waiting);
    }

    /** True when the event opened the tray of a drive whose change waits: reconcile now. */
    boolean opensWaitingTray(VmEvent event) {
        return event instanceof VmEvent.TrayMoved moved
                && moved.open()
                && waiting.containsKey(moved.qdevId());
    }

    private void done(String key, Throwable error, String outcome) {
        reporter.report(key, error == null ? outcome : "rejected: " + error.getMessage());
    }
}
