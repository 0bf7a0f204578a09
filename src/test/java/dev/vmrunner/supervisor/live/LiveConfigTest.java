package dev.vmrunner.supervisor.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.vmrunner.kube.VmFacts;
import dev.vmrunner.qmp.VcpuSlot;
import dev.vmrunner.qmp.VmEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live changes below the end-to-end level: the loop on a fake clock, a scripted QEMU on a real
 * socket. Each test asserts the log line a user reads, what QEMU was sent, and what the status and
 * the metrics count.
 */
class LiveConfigTest {

    @TempDir Path dir;

    @Test
    void aRamChangeSetsTheBalloonOnceAndIsCounted() throws Exception {
        try (LiveRig rig = new LiveRig(dir).running()) {
            rig.awaitRoundAndRefresh(); // the first round: nothing differs
            rig.edit("currentRam: 512M");
            assertEquals(
                    "vm.currentRam: 1G -> 512M: applied (balloon target 512M)",
                    rig.awaitLog("vm.currentRam: 1G"));
            JsonObject balloon = last(rig.expect("balloon"));
            assertEquals(512L << 20, balloon.getAsJsonObject("arguments").get("value").getAsLong());
            rig.advance(Duration.ofSeconds(3));
            rig.awaitLog("vm.currentRam: the balloon has settled, the guest has 512M");
            assertEquals(Map.of("applied", 1L), rig.counted());
            assertEquals(
                    Map.of("vm.currentRam", "applied (balloon target 512M)"),
                    rig.view().lastChanges());
        }
    }

    @Test
    void everyOutcomeIsToldToTheFactsListenerWithItsCategory() throws Exception {
        try (LiveRig rig = new LiveRig(dir).running()) {
            List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
            rig.live.tellFacts(
                    new VmFacts() {
                        @Override
                        public void changeDone(String key, String kind, String text) {
                            told.add(key + " " + kind + ": " + text);
                        }
                    });
            rig.awaitRoundAndRefresh();
            rig.edit("/resetCounter: 1");
            rig.awaitLog("resetCounter: (none) -> 1: applied (VM reset)");
            rig.edit("/resetCounter: 0");
            rig.awaitLog("resetCounter: 1 -> 0: ignored");
            rig.counted(); // a barrier: what the loop has queued has run
            assertEquals(
                    List.of(
                            "resetCounter applied: applied (VM reset)",
                            "resetCounter ignored: ignored (only an increase resets the VM)"),
                    told);
        }
    }

    @Test
    void aChangeBeforeTheVmRunsWaitsForItAndOnlyItsEndIsCounted() throws Exception {
        try (LiveRig rig = new LiveRig(dir)) {
            rig.edit("currentRam: 512M");
            rig.awaitLog("vm.currentRam: 1G -> 512M: pending, applied once the VM runs");
            assertEquals(Map.of(), rig.counted());
            assertEquals(List.of("vm.currentRam: 1G -> 512M"), rig.view().pending());
            rig.running();
            rig.awaitLog("vm.currentRam: 1G -> 512M: applied (balloon target 512M)");
            assertEquals(Map.of("applied", 1L), rig.counted());
            assertEquals(List.of(), rig.view().pending());
        }
    }

    @Test
    void onlyAnIncreaseOfTheResetCounterResets() throws Exception {
        try (LiveRig rig = new LiveRig(dir).running()) {
            rig.edit("/resetCounter: 1");
            rig.awaitLog("resetCounter: (none) -> 1: applied (VM reset)");
            rig.expect("system_reset");
            rig.edit("/resetCounter: 0");
            rig.awaitLog("resetCounter: 1 -> 0: ignored (only an increase resets the VM)");
            rig.edit("/resetCounter: 0", "currentRam: 512M");
            List<String> sent = LiveRig.names(rig.expect("balloon"));
            assertFalse(sent.contains("system_reset"), sent.toString());
            rig.awaitLog("vm.currentRam: 1G -> 512M: applied");
            assertEquals(Map.of("applied", 2L, "ignored", 1L), rig.counted());
        }
    }

    @Test
    void whileStoppingOnlyThePowerdownTimeoutIsTakenAndNeitherIsCounted() throws Exception {
        try (LiveRig rig = new LiveRig(dir).running()) {
            rig.awaitRoundAndRefresh();
            rig.editWhileStopping("powerdownTimeout: 60", "currentRam: 512M");
            rig.awaitLog("vm.powerdownTimeout: 900 -> 60: applied");
            rig.awaitLog("vm.currentRam: 1G -> 512M: ignored, the VM is stopping");
            assertEquals(List.of(Duration.ofSeconds(60)), rig.timeouts);
            assertEquals(Map.of(), rig.counted());
            assertEquals(Map.of(), rig.view().lastChanges());
        }
    }

    @Test
    void aKeyThatNeedsARestartIsSaidAndShownNotCounted() throws Exception {
        try (LiveRig rig = new LiveRig(dir).running()) {
            rig.edit("maximumRam: 2G");
            rig.awaitLog(
                    "vm.maximumRam: 1G -> 2G: needs a restart (takes effect at the next start)");
            assertEquals(List.of("vm.maximumRam"), rig.view().needsRestart());
            assertEquals(Map.of(), rig.counted());
        }
    }

    @Test
    void aRejectedChangeIsNotRetriedButAnAppliedOneThatQemuLostIs() throws Exception {
        try (LiveRig rig = new LiveRig(dir).running()) {
            rig.awaitRoundAndRefresh();
            rig.qemu.refuse.put("balloon", "no balloon here");
            rig.edit("currentRam: 512M");
            String line = rig.awaitLog("vm.currentRam: 1G -> 512M: rejected: ");
            assertTrue(line.contains("no balloon here"), line);
            rig.awaitRoundAndRefresh();

            rig.reconnect(); // a new round: QEMU still differs, but the change was rejected
            List<String> sent = rig.awaitRoundAndRefresh();
            assertFalse(sent.contains("balloon"), sent.toString());
            assertEquals(Map.of("rejected", 1L), rig.counted());

            rig.qemu.refuse.clear();
            rig.edit("currentRam: 256M");
            rig.awaitLog("vm.currentRam: 512M -> 256M: applied (balloon target 256M)");
            rig.awaitRoundAndRefresh();
            rig.qemu.balloon = 1L << 30; // QEMU no longer has what was applied
            rig.reconnect();
            rig.expect("balloon");
            rig.awaitLog("vm.currentRam: applied (balloon target 256M)");
            assertEquals(Map.of("rejected", 1L, "applied", 2L), rig.counted());
        }
    }

    @Test
    void vcpusArePluggedIntoTypedSlotsAndAnUnreleasedOneIsRejectedAfterTenSeconds()
            throws Exception {
        try (LiveRig rig = new LiveRig(dir)) {
            AtomicReference<Set<VcpuSlot>> emptied = new AtomicReference<>(Set.of());
            rig.onLoop(() -> rig.live.keepState(content -> {}, Set.of(), emptied::set));
            rig.running();
            rig.edit("currentCpus: 2");
            JsonObject add = last(rig.expect("device_add")).getAsJsonObject("arguments");
            assertEquals("vcpu-1-0-0", add.get("id").getAsString());
            assertEquals(1, add.get("socket-id").getAsInt());
            rig.awaitLog("vm.currentCpus: 1 -> 2: applied (2 vCPUs)");

            rig.qemu.guestReleasesCpus = false;
            rig.edit("currentCpus: 1");
            JsonObject del = last(rig.expect("device_del")).getAsJsonObject("arguments");
            assertEquals("vcpu-1-0-0", del.get("id").getAsString());
            rig.onLoop(() -> {}); // the unplug's deadline is set once device_del is sent
            assertEquals(Set.of(new VcpuSlot(1, null, 0, 0)), emptied.get());
            rig.advance(Duration.ofSeconds(11));
            // The first count may have been checked before that move and its next poll scheduled
            // after it (the loop reads the clock twice): one more step makes that poll due too.
            rig.advance(Duration.ofSeconds(1));
            rig.awaitLog(
                    "vm.currentCpus: 2 -> 1: rejected: the guest did not release the vCPU within"
                            + " 10 s (2 vCPUs remain)");
            assertEquals(Map.of("applied", 1L, "rejected", 1L), rig.counted());
        }
    }

    @Test
    void aCdChangeWaitsForTheGuestsEjectSendingNothingThenCompletes() throws Exception {
        String a = rig(dir).toString();
        try (LiveRig rig = new LiveRig(dir, "drives:", "  - type: ide-cd", "    file: " + a)) {
            String b = rig.iso("b.iso").toString();
            rig.qemu.cds.put("cd0", new LiveRig.Cd(a, true));
            rig.running();
            rig.awaitRoundAndRefresh();
            rig.edit("drives:", "  - type: ide-cd", "    file: " + b);
            rig.awaitLog(
                    "vm.drives[0].file: "
                            + a
                            + " -> "
                            + b
                            + ": pending: the guest has locked the tray of cd0 (the medium is in"
                            + " use); the change completes when the guest ejects it");
            List<String> sent = rig.awaitRoundAndRefresh();
            assertTrue(sent.stream().noneMatch(c -> c.startsWith("blockdev-")), sent.toString());
            LiveConfig.View view = rig.view();
            assertEquals(b, view.drives().get(0).pending());
            assertEquals(
                    List.of("vm.drives[0].file: waits for the guest to eject the medium of cd0"),
                    view.pending());

            LiveRig.Cd cd = rig.qemu.cds.get("cd0"); // the guest ejects
            cd.locked = false;
            cd.trayOpen = true;
            cd.file = null;
            rig.onLoop(() -> rig.live.onQmpEvent(new VmEvent.TrayMoved("cd0", true)));
            rig.expect("blockdev-change-medium");
            rig.awaitLog("vm.drives[0].file: applied (medium " + b + ")");
            assertEquals(Map.of("pending", 1L, "applied", 1L), rig.counted());
            assertEquals(
                    Map.of("vm.drives[0].file", "applied (medium " + b + ")"),
                    rig.view().lastChanges());
        }
    }

    private static Path rig(Path dir) throws Exception {
        Path a = dir.resolve("a.iso");
        java.nio.file.Files.writeString(a, "iso");
        return a;
    }

    private static JsonObject last(List<JsonObject> commands) {
        return commands.get(commands.size() - 1);
    }
}
