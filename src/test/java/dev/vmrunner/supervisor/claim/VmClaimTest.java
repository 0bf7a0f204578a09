package dev.vmrunner.supervisor.claim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The claim on a VM: refuse a second runner, adopt a verified QEMU, clear what is stale. */
class VmClaimTest {

    @TempDir Path dir;

    /** Processes as the test says they are. */
    static final class FakeProcesses implements Processes {
        final Map<Long, List<String>> running = new HashMap<>();

        @Override
        public boolean alive(long pid) {
            return running.containsKey(pid);
        }

        @Override
        public Optional<Path> executable(long pid) {
            return alive(pid) ? Optional.of(Path.of(running.get(pid).get(0))) : Optional.empty();
        }

        @Override
        public List<String> commandLine(long pid) {
            return running.getOrDefault(pid, List.of());
        }
    }

    private final FakeProcesses processes = new FakeProcesses();

    private RunnerConfig config(String name) throws Exception {
        String yaml =
                "\"/Runner\":\n  dataDir: "
                        + dir.resolve("data")
                        + "\n  runtimeDir: "
                        + dir.resolve("run")
                        + "\n  vm:\n    name: "
                        + name
                        + "\n";
        return ConfigLoader.parse(yaml, dir.resolve("config.yaml"), Map.of());
    }

    private Path run() {
        return dir.resolve("run");
    }

    private void leftQemu(long pid, String exe, String name) throws Exception {
        Files.createDirectories(run());
        Files.writeString(run().resolve("qemu.pid"), pid + "\n");
        Files.writeString(run().resolve("monitor.sock"), "");
        processes.running.put(
                pid,
                List.of(
                        exe,
                        "-name",
                        "guest=" + name + ",debug-threads=on",
                        "-chardev",
                        "socket,id=charmonitor,path="
                                + run().resolve("monitor.sock")
                                + ",server=on"));
    }

    @Test
    void aFreshVmIsClaimedAndReleased() throws Exception {
        VmClaim claim = VmClaim.acquire(config("a"), processes);
        assertTrue(claim.adoptable().isEmpty());
        assertTrue(Files.exists(run().resolve("runner.pid")));
        claim.release();
        assertFalse(Files.exists(run()));
    }

    @Test
    void aSecondRunnerIsRefusedWhileTheFirstHoldsTheVm() throws Exception {
        VmClaim first = VmClaim.acquire(config("a"), processes);
        VmClaim.ClaimException e =
                assertThrows(
                        VmClaim.ClaimException.class,
                        () -> VmClaim.acquire(config("a"), processes));
        assertTrue(e.alreadyRunning());
        assertTrue(e.getMessage().contains("already run by another vmrunner"), e.getMessage());
        assertTrue(Files.exists(run().resolve("runner.pid")), "the first one's files stay");
        first.release();
        VmClaim.acquire(config("a"), processes).release();
    }

    @Test
    void aVerifiedQemuLeftRunningIsAdoptedAndItsFilesKept() throws Exception {
        leftQemu(4242, "/usr/bin/qemu-system-x86_64", "a");
        VmClaim claim = VmClaim.acquire(config("a"), processes);
        assertEquals(4242, claim.adoptable().orElseThrow().pid());
        assertTrue(Files.exists(run().resolve("monitor.sock")));
        assertTrue(Files.exists(run().resolve("qemu.pid")));
        claim.release();
    }

    @Test
    void aQemuOfAnotherVmInTheSameRuntimeDirectoryIsRefusedAndLeftAlone() throws Exception {
        leftQemu(4242, "/usr/bin/qemu-system-x86_64", "other");
        VmClaim.ClaimException e =
                assertThrows(
                        VmClaim.ClaimException.class,
                        () -> VmClaim.acquire(config("a"), processes));
        assertTrue(e.alreadyRunning());
        assertTrue(e.getMessage().contains("is not VM a"), e.getMessage());
        assertTrue(Files.exists(run().resolve("monitor.sock")));
    }

    @Test
    void aReusedPidOrADeadQemuIsStaleAndCleared() throws Exception {
        leftQemu(4242, "/usr/bin/bash", "a"); // the pid now belongs to something else
        VmClaim claim = VmClaim.acquire(config("a"), processes);
        assertTrue(claim.adoptable().isEmpty());
        assertFalse(Files.exists(run().resolve("monitor.sock")));
        claim.release();

        leftQemu(4243, "/usr/bin/qemu-system-x86_64", "a");
        processes.running.clear(); // it died
        claim = VmClaim.acquire(config("a"), processes);
        assertTrue(claim.adoptable().isEmpty());
        assertFalse(Files.exists(run().resolve("qemu.pid")));
        claim.release();
    }

    @Test
    void aQemuWhoseCommandLineDoesNotNameTheMonitorIsNotAdopted() throws Exception {
        leftQemu(4242, "/usr/bin/qemu-system-x86_64", "a");
        processes.running.put(4242L, List.of("/usr/bin/qemu-system-x86_64", "-name", "guest=a"));
        VmClaim claim = VmClaim.acquire(config("a"), processes);
        assertTrue(claim.adoptable().isEmpty());
        claim.release();
    }

    @Test
    void anUnwritableDataDirectoryIsNamed() throws Exception {
        Files.writeString(dir.resolve("data"), "a file, not a directory");
        VmClaim.ClaimException e =
                assertThrows(
                        VmClaim.ClaimException.class,
                        () -> VmClaim.acquire(config("a"), processes));
        assertFalse(e.alreadyRunning());
        assertTrue(e.getMessage().contains(dir.resolve("data").toString()), e.getMessage());
        assertFalse(Files.exists(run()), "nothing left behind");
    }
}
