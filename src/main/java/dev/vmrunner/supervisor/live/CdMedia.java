package dev.vmrunner.supervisor.live;

import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.VmEvent;
import dev.vmrunner.supervisor.live.Outcome.Applied;
import dev.vmrunner.supervisor.live.Outcome.Pending;
import dev.vmrunner.supervisor.live.Outcome.Rejected;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * CD media changes. A guest that has mounted the CD keeps the tray locked, and the runner then
 * sends QEMU nothing for that drive: a non-forced open of a locked tray (also inside {@code
 * blockdev-change-medium}) makes QEMU send the guest an eject request, and Debian's udev answers
 * one by ejecting even a mounted disc (60-cdrom_id.rules). The change waits until the guest ejects
 * by itself ({@code DEVICE_TRAY_MOVED}, tray open); the caller then reconciles again, which
 * completes it. A newer change replaces a waiting one.
 *
 * <p>A change's outcome goes to the {@code done} its call was given.
 */
final class CdMedia {

    private final LiveLoop loop;

    /** Drives whose change waits for the guest to eject: qdev id → configuration key. */
    private final Map<String, String> waiting = new HashMap<>();

    CdMedia(LiveLoop loop) {
        this.loop = loop;
    }

    /** Puts {@code file} into the drive, or empties it when {@code file} is null. */
    void change(Qmp qmp, String qdevId, String file, Consumer<Outcome> done) {
        waiting.remove(qdevId);
        if (file != null) {
            loop.whenDone(
                    qmp.insertMedium(qdevId, file),
                    (ok, error) -> done.accept(outcome(error, "medium " + file)));
            return;
        }
        // The tray is not locked (else the change would wait): it opens without asking the guest.
        loop.whenDone(
                qmp.openTray(qdevId, false),
                (opened, error) -> {
                    if (error != null) {
                        done.accept(Rejected.by(error));
                        return;
                    }
                    loop.whenDone(
                            qmp.removeMedium(qdevId),
                            (removed, notRemoved) -> {
                                if (notRemoved == null) {
                                    loop.whenDone(qmp.closeTray(qdevId), (closed, e) -> {});
                                }
                                done.accept(outcome(notRemoved, "ejected"));
                            });
                });
    }

    /**
     * The guest holds the tray locked: wait for its own eject. With {@code requestEject} ({@code
     * lockedTray: eject-request}) the drive's eject button is pressed once first: a non-forced
     * {@code blockdev-open-tray} of a locked tray sends the guest an eject request (QEMU answers
     * with an error, as the tray has not opened yet), and the guest decides.
     */
    void awaitEject(
            Qmp qmp, String key, String qdevId, boolean requestEject, Consumer<Outcome> done) {
        boolean already = key.equals(waiting.put(qdevId, key));
        if (requestEject && !already) {
            loop.whenDone(qmp.openTray(qdevId, false), (ok, error) -> {});
        }
        done.accept(
                new Pending(
                        "the guest has locked the tray of "
                                + qdevId
                                + " (the medium is in use); "
                                + (requestEject
                                        ? "the guest was asked to eject it (lockedTray:"
                                              + " eject-request); the change completes when it does"
                                        : "the change completes when the guest ejects it")
                                + (already ? " (replaces the change that was waiting)" : "")));
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

    private static Outcome outcome(Throwable error, String applied) {
        return error == null ? new Applied(applied) : Rejected.by(error);
    }
}
