package dev.vmrunner.supervisor.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.vmrunner.qmp.VmEvent;
import dev.vmrunner.supervisor.live.Outcome.Applied;
import dev.vmrunner.supervisor.live.Outcome.Pending;
import dev.vmrunner.supervisor.live.Outcome.Rejected;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CD media changes against a scripted QEMU: what is sent, and the outcome each change gets. */
class CdMediaTest {

    private static final String KEY = "vm.drives[0].file";

    @TempDir Path dir;

    private LiveRig rig;
    private CdMedia cds;
    private final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();

    @BeforeEach
    void connect() throws Exception {
        rig = new LiveRig(dir).connected();
        cds = new CdMedia(rig.loop);
    }

    @AfterEach
    void close() throws Exception {
        rig.close();
    }

    private Outcome outcome() throws InterruptedException {
        Outcome outcome = outcomes.poll(LiveRig.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        if (outcome == null) {
            throw new AssertionError("no outcome within " + LiveRig.WAIT);
        }
        return outcome;
    }

    /**
     * What QEMU received since the last look, up to a query sent now: everything sent before it has
     * arrived (one socket, in order), so "nothing else was sent" is a real assertion.
     */
    private List<String> sentSoFar() throws InterruptedException {
        rig.onLoop(() -> rig.loop.whenDone(rig.qmp().queryVersion(), (v, e) -> {}));
        return LiveRig.names(rig.expect("query-version"));
    }

    @Test
    void aMediumIsPutIn() throws Exception {
        rig.qemu.cds.put("cd0", new LiveRig.Cd(null, false));
        rig.onLoop(() -> cds.change(rig.qmp(), "cd0", "/b.iso", outcomes::add));
        assertEquals(new Applied("medium /b.iso"), outcome());
        JsonObject change = rig.expect("blockdev-change-medium").get(0);
        assertEquals("cd0", change.getAsJsonObject("arguments").get("id").getAsString());
        assertEquals("/b.iso", rig.qemu.cds.get("cd0").file);
    }

    @Test
    void anUnlockedDriveIsEmptiedWithoutAskingTheGuest() throws Exception {
        rig.qemu.cds.put("cd0", new LiveRig.Cd("/a.iso", false));
        rig.onLoop(() -> cds.change(rig.qmp(), "cd0", null, outcomes::add));
        assertEquals(new Applied("ejected"), outcome());
        assertEquals(
                List.of("blockdev-open-tray", "blockdev-remove-medium", "blockdev-close-tray"),
                LiveRig.names(rig.expect("blockdev-close-tray")));
        assertEquals(null, rig.qemu.cds.get("cd0").file);
    }

    @Test
    void aRefusalIsRejectedAndEndsTheChange() throws Exception {
        rig.qemu.cds.put("cd0", new LiveRig.Cd("/a.iso", false));
        rig.qemu.refuse.put("blockdev-open-tray", "Device 'cd0' is busy");
        rig.onLoop(() -> cds.change(rig.qmp(), "cd0", null, outcomes::add));
        Rejected rejected = assertInstanceOf(Rejected.class, outcome());
        assertTrue(rejected.detail().contains("Device 'cd0' is busy"), rejected.detail());
        assertEquals(List.of("blockdev-open-tray", "query-version"), sentSoFar());
    }

    @Test
    void aLockedTrayWaitsForTheGuestAndSendsNothing() throws Exception {
        rig.onLoop(() -> cds.awaitEject(rig.qmp(), KEY, "cd0", false, outcomes::add));
        assertEquals(
                new Pending(
                        "the guest has locked the tray of cd0 (the medium is in use); the change"
                                + " completes when the guest ejects it"),
                outcome());
        assertEquals(List.of("query-version"), sentSoFar());
        assertEquals(Map.of("cd0", KEY), rig.onLoop(cds::waiting));
        assertTrue(rig.onLoop(() -> cds.opensWaitingTray(new VmEvent.TrayMoved("cd0", true))));
        assertFalse(rig.onLoop(() -> cds.opensWaitingTray(new VmEvent.TrayMoved("cd0", false))));
        assertFalse(rig.onLoop(() -> cds.opensWaitingTray(new VmEvent.TrayMoved("cd1", true))));

        rig.qemu.cds.put("cd0", new LiveRig.Cd(null, false)); // the guest ejected
        rig.onLoop(() -> cds.change(rig.qmp(), "cd0", "/b.iso", outcomes::add));
        assertEquals(new Applied("medium /b.iso"), outcome());
        assertEquals(Map.of(), rig.onLoop(cds::waiting));
    }

    @Test
    void anEjectRequestIsSentOnceAndANewerChangeReplacesTheWaitingOne() throws Exception {
        rig.qemu.cds.put("cd0", new LiveRig.Cd("/a.iso", true));
        rig.onLoop(() -> cds.awaitEject(rig.qmp(), KEY, "cd0", true, outcomes::add));
        Pending first = assertInstanceOf(Pending.class, outcome());
        assertTrue(first.detail().contains("lockedTray: eject-request"), first.detail());
        JsonObject open = rig.expect("blockdev-open-tray").get(0).getAsJsonObject("arguments");
        assertFalse(open.get("force").getAsBoolean(), "the guest decides");

        rig.onLoop(() -> cds.awaitEject(rig.qmp(), KEY, "cd0", true, outcomes::add));
        Pending second = assertInstanceOf(Pending.class, outcome());
        assertTrue(
                second.detail().endsWith("(replaces the change that was waiting)"),
                second.detail());
        assertEquals(List.of("query-version"), sentSoFar(), "the button is pressed once");
    }
}
