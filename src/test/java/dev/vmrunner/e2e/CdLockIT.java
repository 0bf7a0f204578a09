package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.WAIT;
import static dev.vmrunner.e2e.ReconfigureIT.await;
import static dev.vmrunner.e2e.ReconfigureIT.cd;
import static dev.vmrunner.e2e.ReconfigureIT.iso;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.qmp.BlockInfo;
import dev.vmrunner.qmp.Qmp;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The locked-tray promise on a guest that answers eject requests as udev does (Debian's
 * 60-cdrom_id.rules: on DISK_EJECT_REQUEST it unlocks and ejects, mounted or not; the test guest's
 * uevent handler does the same). While the guest holds the tray locked, a changed {@code file} must
 * wait without sending the guest anything that reaches it as an eject request (QEMU turns every
 * open-tray/eject/change-medium on a locked drive into one), and complete when the guest ejects by
 * itself.
 */
class CdLockIT {
    /** The guest polls the drive every 2 s (as with systemd's 60-block.rules), plus margin. */
    private static final long EJECT_REQUEST_WINDOW_MILLIS = 8_000;

    @TempDir Path dir;

    @Test
    void aMountedDiscIsNeverEjectedUnderTheGuest() throws Exception {
        Path a = iso(dir, "a", "medium-a");
        Path b = iso(dir, "b", "medium-b");
        String[] withA = {"drives:", "  - type: ide-cd", "    file: " + a};
        String[] withB = {"drives:", "  - type: ide-cd", "    file: " + b};
        try (TestVm vm = new TestVm(dir).template("").config(withA)) {
            vm.boot();
            Qmp qmp = vm.observer();
            String mounted =
                    vm.guestCommand(
                            "mount -t iso9660 -o ro /dev/sr0 /mnt && cat /mnt/medium.txt", WAIT);
            assertTrue(mounted.contains("medium-a"), mounted);
            assertTrue(cd(qmp).locked(), "mounting locks the tray");

            vm.config(withB);
            vm.awaitLog("pending: the guest has locked the tray of cd0", WAIT);
            Thread.sleep(EJECT_REQUEST_WINDOW_MILLIS);
            assertFalse(
                    vm.serialText().contains("VMRUNNER-GUEST: eject request sr0"),
                    "the guest was sent an eject request; serial:\n" + vm.serialText());
            BlockInfo held = cd(qmp);
            assertEquals(a.toString(), held.file(), "the medium changed under the mount");
            assertEquals(Boolean.FALSE, held.trayOpen());
            String still = vm.guestCommand("cat /mnt/medium.txt", WAIT);
            assertTrue(
                    still.contains("medium-a"), "the mount keeps reading the old disc: " + still);

            // The guest lets go by itself: the waiting change completes.
            vm.guestCommand("umount /mnt && eject /dev/sr0", WAIT);
            await("medium b in cd0", () -> cd(qmp).file(), b.toString()::equals);
            String mount =
                    "for i in 1 2 3 4 5 6 7 8 9 10; do mount -t iso9660 -o ro /dev/sr0 /mnt"
                            + " 2>/dev/null && break; sleep 0.5; done; cat /mnt/medium.txt";
            String seen = vm.guestCommand(mount, WAIT);
            assertTrue(seen.contains("medium-b"), seen + "\nlog:\n" + vm.log());
        }
    }

    @Test
    void withEjectRequestTheGuestIsAskedAndItsEjectLetsTheChangeComplete() throws Exception {
        Path a = iso(dir, "a", "medium-a");
        Path b = iso(dir, "b", "medium-b");
        String[] withA = {
            "drives:", "  - type: ide-cd", "    lockedTray: eject-request", "    file: " + a
        };
        String[] withB = {
            "drives:", "  - type: ide-cd", "    lockedTray: eject-request", "    file: " + b
        };
        try (TestVm vm = new TestVm(dir).template("").config(withA)) {
            vm.boot();
            Qmp qmp = vm.observer();
            String mounted =
                    vm.guestCommand(
                            "mount -t iso9660 -o ro /dev/sr0 /mnt && cat /mnt/medium.txt", WAIT);
            assertTrue(mounted.contains("medium-a"), mounted);
            assertTrue(cd(qmp).locked(), "mounting locks the tray");

            // The drive's eject button: the guest (like Debian's udev) ejects even a mounted disc.
            vm.config(withB);
            vm.awaitLog("the guest was asked to eject it (lockedTray: eject-request)", WAIT);
            vm.awaitSerial("VMRUNNER-GUEST: eject request sr0", WAIT);
            await("medium b in cd0", () -> cd(qmp).file(), b.toString()::equals);
        }
    }
}
