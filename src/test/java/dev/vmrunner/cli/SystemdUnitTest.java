package dev.vmrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.status.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shipped unit file and the messages systemd gets. */
class SystemdUnitTest {

    private static Map<String, String> service() throws Exception {
        Map<String, String> keys = new HashMap<>();
        String section = "";
        for (String line : Files.readAllLines(Path.of("deploy/systemd/vmrunner@.service"))) {
            String l = line.strip();
            if (l.startsWith("[")) {
                section = l;
            } else if (section.equals("[Service]") && l.contains("=") && !l.startsWith("#")) {
                keys.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1));
            }
        }
        return keys;
    }

    @Test
    void theUnitLeavesQemuToTheNextRunnerAndWaitsLongerThanThePowerdown() throws Exception {
        Map<String, String> s = service();
        assertEquals("notify", s.get("Type"));
        assertEquals("all", s.get("NotifyAccess"), "systemd-notify is a child of the runner");
        assertEquals("process", s.get("KillMode"), "a dead runner's QEMU is left to the next");
        assertEquals("on-failure", s.get("Restart"));
        assertTrue(
                Integer.parseInt(s.get("TimeoutStopSec")) > 900 + 10,
                "above the default powerdownTimeout plus the kill grace");
        assertTrue(s.get("ExecReload").contains("-HUP"));
        assertTrue(s.get("ExecStart").contains("vmrunner -c /etc/opt/vmrunner/%i.yaml"));
    }

    @Test
    void theUnitsDirectoriesAreRootsDefaultsAndOutliveARunner() throws Exception {
        Map<String, String> s = service();
        assertEquals("vmrunner", s.get("StateDirectory"), "/var/lib/vmrunner, root's default");
        assertEquals("vmrunner", s.get("RuntimeDirectory"), "/run/vmrunner, root's default");
        assertEquals(
                "yes",
                s.get("RuntimeDirectoryPreserve"),
                "the restarted runner adopts QEMU through the runtime directory");
    }

    private static Status status(String state) {
        return new Status(
                "web1",
                state,
                Instant.EPOCH,
                Instant.EPOCH,
                null,
                42L,
                null,
                new Status.Ram(1, 1, null),
                new Status.Cpus(1, 1, null),
                List.of(),
                List.of(),
                List.of(),
                Map.of(),
                null,
                null,
                null);
    }

    @Test
    void readyOnceRunningStoppingWhenTheStopBegins() {
        assertEquals(
                List.of("STATUS=Starting VM web1"), SdNotify.messages(status("starting"), true));
        assertEquals(
                List.of("READY=1", "STATUS=VM web1 running (QEMU pid 42)"),
                SdNotify.messages(status("running"), true));
        assertEquals(
                List.of("STATUS=VM web1 running (QEMU pid 42)"),
                SdNotify.messages(status("running"), false));
        assertEquals(
                List.of("STOPPING=1", "STATUS=Stopping VM web1: waiting for the guest"),
                SdNotify.messages(status("stopping"), false));
    }

    /** The same status, but meant to be stopped ({@code vm.state: Stopped}, vmrunner stop). */
    private static Status stoppedOnPurpose(String state) {
        Status s = status(state);
        return new Status(
                s.name(),
                s.state(),
                s.since(),
                s.runnerStarted(),
                null,
                null,
                null,
                s.ram(),
                s.cpus(),
                s.drives(),
                s.pending(),
                s.needsRestart(),
                s.lastChanges(),
                null,
                null,
                null,
                null,
                null,
                null,
                Status.STOPPED);
    }

    @Test
    void aStopOnPurposeLeavesTheServiceUpAndBeginningStoppedIsReady() {
        assertEquals(
                List.of("STATUS=Stopping VM web1: waiting for the guest"),
                SdNotify.messages(stoppedOnPurpose("stopping"), false));
        assertEquals(
                List.of("READY=1", "STATUS=VM web1 stopped (vmrunner start starts it)"),
                SdNotify.messages(stoppedOnPurpose("stopped"), true));
        assertEquals(
                List.of("STATUS=VM web1 stopped"), SdNotify.messages(status("stopped"), false));
    }
}
