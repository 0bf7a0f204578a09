package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Fault injection with the real launcher, QEMU (TCG), swtpm and the test guest: every signal in
 * every state, a killed runner, a frozen or killed QEMU, a killed swtpm, the runtime directory or
 * monitor socket deleted, full and read-only directories, two runners at once, a signal during the
 * first TPM setup. Each case asserts what a user sees (exit code, log, processes left) and adds a
 * row to {@code target/fault-table.md}. Cases run two at a time, each in its own directories.
 */
@Execution(ExecutionMode.CONCURRENT)
class FaultIT {

    static final Duration WAIT = Duration.ofSeconds(60);
    static final Duration STOP = Duration.ofSeconds(120);
    static final List<String> HARMLESS = List.of("HUP", "USR1", "USR2", "QUIT", "PIPE");

    private static final Queue<String> ROWS = new ConcurrentLinkedQueue<>();
    private static final long SUITE_START = System.nanoTime();

    @TempDir Path dir;

    // ---- signals in every state ---------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT", "TERM,TERM"})
    void aStopWhileStartingEndsTheStartAtOnce(String stop) throws Exception {
        try (TestVm vm = new TestVm(dir).config("useTpm: true")) {
            hangingHelperTemplate(vm);
            vm.start();
            long helper = vm.childPid("swtpm");
            if (stop.equals("TERM")) {
                harmless(vm, "starting", helper);
            }
            long t = System.nanoTime();
            signals(vm, stop);
            int code = vm.awaitExit(WAIT);
            String left = leftovers(vm, helper);
            row("SIG" + stop + " while starting", "start ended, no guest ran", code, t, left);
            assertEquals(0, code, vm.log());
            assertTrue(vm.log().contains("Stopping before the guest ran"), vm.log());
            assertEquals("none", left);
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory left behind");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT", "TERM,TERM"})
    void aStopWhileTheGuestBootsPowersItDown(String stop) throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.start();
            vm.awaitLog("is running", TestVm.BOOT);
            boolean booted = vm.serialText().contains("VMRUNNER-GUEST: booted");
            long t = System.nanoTime();
            signals(vm, stop);
            int code = vm.awaitExit(STOP);
            String left = leftovers(vm);
            row(
                    "SIG" + stop + " while booting" + (booted ? " (had booted)" : ""),
                    "power button (pressed again until the guest answers)",
                    code,
                    t,
                    left);
            assertEquals(0, code, vm.log());
            assertTrue(vm.log().contains("The guest powered off as asked"), vm.log());
            assertTrue(count(vm.serialText(), "VMRUNNER-GUEST: booted") <= 1);
            assertEquals("none", left);
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory left behind");
        }
    }

    @Test
    void otherSignalsWhileBootingAndRunningChangeNothing() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.start();
            vm.awaitLog("is running", TestVm.BOOT);
            long qemu = vm.childPid("qemu");
            harmless(vm, "booting", qemu);
            vm.awaitSerial("VMRUNNER-GUEST: booted", TestVm.BOOT);
            harmless(vm, "running", qemu);
            assertTrue(vm.guestCommand("echo still-here", WAIT).contains("still-here"));
            long t = System.nanoTime();
            vm.sigterm();
            int code = vm.awaitExit(STOP);
            String left = leftovers(vm);
            row("SIGTERM while running", "power button, guest powered off", code, t, left);
            assertEquals(0, code, vm.log());
            assertEquals(1, count(vm.serialText(), "VMRUNNER-GUEST: booted"), "one boot");
            assertEquals("none", left);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"INT", "TERM,TERM"})
    void aStopWhileRunningPowersTheGuestDown(String stop) throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.boot();
            long t = System.nanoTime();
            signals(vm, stop);
            int code = vm.awaitExit(STOP);
            String left = leftovers(vm);
            row("SIG" + stop + " while running", "power button, guest powered off", code, t, left);
            assertEquals(0, code, vm.log());
            assertTrue(vm.serialText().contains("VMRUNNER-GUEST: power button"));
            assertEquals("none", left);
            assertFalse(Files.exists(vm.runtimeDir), "runtime directory left behind");
        }
    }

    @Test
    void signalsWhilePoweringDownNeverShortenTheWait() throws Exception {
        try (TestVm vm =
                new TestVm(dir)
                        .template("vmrunner.powerbutton=ignore vmrunner.agent=off")
                        .config("powerdownTimeout: 300")) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            vm.sigterm();
            vm.awaitSerial("VMRUNNER-GUEST: power button ignored", WAIT);
            harmless(vm, "powering down", qemu);
            for (String again : List.of("TERM", "INT")) {
                int offset = vm.log().length();
                long t = System.nanoTime();
                kill(vm.runnerPid(), again);
                awaitAfter(vm, offset, "Still waiting for the guest to power off");
                assertTrue(TestVm.alive(qemu));
                row(
                        "SIG" + again + " while powering down",
                        "button pressed again, wait not shortened",
                        -1,
                        t,
                        "-");
            }
            // The guest now answers the button; the next press (every 5 s) powers it off.
            vm.guestCommand("echo poweroff >/run/vmrunner/powerbutton", WAIT);
            long t = System.nanoTime();
            int code = vm.awaitExit(STOP);
            String left = leftovers(vm);
            row("(guest answers the button)", "guest powered off", code, t, left);
            assertEquals(0, code, vm.log());
            assertEquals("none", left);
        }
    }

    // ---- the runner, QEMU or swtpm killed or frozen ---------------------------------------

    @Test
    void aKilledRunnersQemuIsAdoptedByTheNextRunner() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            long t = System.nanoTime();
            AdoptIT.killRunner(vm, qemu);
            vm.start();
            vm.awaitLog("Adopting QEMU (pid " + qemu + ")", WAIT);
            vm.awaitLog("adopted, ", WAIT); // "is running (QEMU pid N, adopted, ...)"
            List<Long> qemus = processes(vm, "qemu-system");
            assertEquals(List.of(qemu), qemus, "one QEMU, the same");
            vm.sigterm();
            int code = vm.awaitExit(STOP);
            String left = leftovers(vm);
            row("kill -9 of the runner, new runner", "same QEMU adopted, one boot", code, t, left);
            assertEquals(0, code, vm.log());
            assertEquals(1, count(vm.serialText(), "VMRUNNER-GUEST: booted"), "one boot");
            assertEquals("none", left);
        }
    }

    @Test
    void aFrozenQemuIsTerminatedAfterTheTimeoutAndKillGrace() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config("powerdownTimeout: 3")) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            kill(qemu, "STOP");
            long t = System.nanoTime();
            vm.sigterm();
            int code = vm.awaitExit(WAIT);
            double seconds = (System.nanoTime() - t) / 1e9;
            String left = leftovers(vm);
            row("QEMU frozen (SIGSTOP), SIGTERM", "SIGTERM, then SIGKILL to QEMU", code, t, left);
            assertEquals(4, code, vm.log());
            assertTrue(seconds >= 3, "after " + seconds + " s");
            assertTrue(vm.log().contains("did not power off within 3 s"), vm.log());
            assertEquals("none", left);
        }
    }

    @Test
    void aKilledQemuIsExitFiveAndSwtpmEndsWithIt() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config("useTpm: true")) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            long t = System.nanoTime();
            kill(qemu, "KILL");
            int code = vm.awaitExit(WAIT);
            String left = leftovers(vm);
            row("QEMU killed (SIGKILL)", "error logged, swtpm ended", code, t, left);
            assertEquals(5, code, vm.log());
            assertTrue(vm.log().contains("qemu was killed by signal 9"), vm.log());
            assertEquals("none", left);
        }
    }

    @Test
    void aKilledSwtpmPowersTheVmDownGracefully() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config("useTpm: true")) {
            vm.boot();
            assertFalse(
                    Files.exists(vm.runtimeDir.resolve("swtpm_setup.pid")),
                    "swtpm_setup.pid left while the VM runs");
            long swtpm = vm.childPid("swtpm");
            long t = System.nanoTime();
            kill(swtpm, "KILL");
            int code = vm.awaitExit(STOP);
            String left = leftovers(vm);
            row("swtpm killed while running", "VM powered down gracefully", code, t, left);
            assertEquals(5, code, vm.log());
            assertTrue(vm.log().contains("the guest has lost its TPM"), vm.log());
            assertTrue(vm.serialText().contains("VMRUNNER-GUEST: power button"));
            assertEquals("none", left);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"runtime dir", "monitor socket"})
    void aDeletedRuntimeDirOrSocketLeavesTheVmRunningAndStoppable(String what) throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            vm.boot();
            long qemu = vm.childPid("qemu");
            long t = System.nanoTime();
            if (what.equals("runtime dir")) {
                run("rm", "-rf", vm.runtimeDir.toString());
            } else {
                Files.delete(vm.runtimeDir.resolve("monitor.sock"));
            }
            Thread.sleep(Waits.seconds(1).toMillis()); // the runner would have reacted by now
            assertTrue(TestVm.alive(qemu));
            assertTrue(vm.guestCommand("echo alive", WAIT).contains("alive"));
            vm.sigterm();
            int code = vm.awaitExit(STOP);
            String left = leftovers(vm, qemu);
            row(
                    what + " deleted while running",
                    "VM runs on; SIGTERM powers it down over the open monitor",
                    code,
                    t,
                    left);
            assertEquals(0, code, vm.log());
            assertTrue(vm.serialText().contains("VMRUNNER-GUEST: power button"));
            assertEquals("none", left);
        }
    }

    // ---- directories ------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"data full", "runtime full", "data read-only", "runtime read-only"})
    void aFullOrReadOnlyDirectoryIsExitTwoWithThePathAndNothingLeft(String which) throws Exception {
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt.toString());
        try (TestVm vm = new TestVm(dir).template("")) {
            if (which.endsWith("full")) {
                run("sh", "-c", "dd if=/dev/zero of=" + mnt + "/fill bs=4k 2>/dev/null; true");
            } else {
                run("mount", "-o", "remount,ro", mnt.toString());
            }
            Path target = mnt.resolve(which.startsWith("data") ? "data" : "run");
            String text = vm.configText("e2e", "useTpm: true");
            text =
                    which.startsWith("data")
                            ? text.replace("dataDir: " + vm.dataDir, "dataDir: " + target)
                            : text.replace("runtimeDir: " + vm.runtimeDir, "runtimeDir: " + target);
            Files.writeString(vm.config, text);
            long t = System.nanoTime();
            vm.start();
            int code = vm.awaitExit(WAIT);
            String left = leftovers(vm, mnt);
            List<String> files = files(mnt, dir.resolve("data"), dir.resolve("run"));
            row(
                    which + " dir",
                    "refused naming " + target.getFileName() + "; files left: " + files,
                    code,
                    t,
                    left);
            assertEquals(2, code, vm.log());
            assertTrue(vm.log().contains(target.toString()), vm.log());
            // the system's reason, in words, never a Java class name
            assertTrue(
                    vm.log()
                            .contains(
                                    which.endsWith("full")
                                            ? "no space left on device"
                                            : "read-only file system"),
                    vm.log());
            assertFalse(vm.log().contains("Exception"), vm.log());
            assertEquals("none", left);
            assertEquals(List.of(), files, "left behind");
        } finally {
            run("umount", "-l", mnt.toString());
        }
    }

    @Test
    void twoRunnersStartedAtOnceGiveOneQemu() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config()) {
            Path secondLog = dir.resolve("second.log");
            ProcessBuilder second = vm.another().redirectOutput(secondLog.toFile());
            long t = System.nanoTime();
            Process first = vm.start();
            Process other = second.start();
            try {
                long deadline = System.nanoTime() + Waits.scaled(WAIT).toNanos();
                while (first.isAlive() && other.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                Process refused = first.isAlive() ? other : first;
                Process winner = refused == first ? other : first;
                assertFalse(refused.isAlive(), "neither runner was refused");
                String refusedLog = refused == first ? vm.log() : Files.readString(secondLog);
                int code = refused.exitValue();
                assertEquals(6, code, refusedLog);
                assertTrue(
                        refusedLog.contains(
                                "already run by another vmrunner (pid " + winner.pid() + ")"),
                        refusedLog);
                awaitFile(vm.serial, "VMRUNNER-GUEST: booted");
                assertEquals(1, processes(vm, "qemu-system").size(), "one QEMU");
                kill(winner.pid(), "TERM");
                assertTrue(winner.waitFor(Waits.scaled(STOP).toMillis(), TimeUnit.MILLISECONDS));
                String left = leftovers(vm);
                row(
                        "two runners at once",
                        "one QEMU; the other refused naming the pid",
                        code,
                        t,
                        left);
                assertEquals(0, winner.exitValue());
                assertEquals("none", left);
            } finally {
                other.destroyForcibly();
            }
        }
    }

    @Test
    void aSignalDuringTheFirstTpmSetupLeavesNoSwtpmAndNoState() throws Exception {
        try (TestVm vm = new TestVm(dir).template("").config("useTpm: true")) {
            vm.start();
            // swtpm_setup's own swtpm, working on the state in the data directory.
            long deadline = System.nanoTime() + Waits.scaled(WAIT).toNanos();
            while (processes(vm, "swtpm").isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(2);
            }
            boolean caught = vm.log().contains("is running") == false;
            long t = System.nanoTime();
            vm.sigterm();
            int code = vm.awaitExit(STOP);
            String left = leftovers(vm);
            boolean noState =
                    !Files.exists(vm.dataDir.resolve(".tpm-setup"))
                            && !Files.exists(vm.dataDir.resolve("tpm2-00.permall"));
            row(
                    "SIGTERM during the first TPM setup" + (caught ? "" : " (missed)"),
                    noState ? "start ended, no TPM state" : "start ended, TPM state made",
                    code,
                    t,
                    left);
            assertEquals(0, code, vm.log());
            assertEquals("none", left);
            assertFalse(Files.exists(vm.dataDir.resolve(".tpm-setup")), "half-made TPM state");
        }
    }

    // ---- helpers ------------------------------------------------------------------------

    /** A template whose swtpm never gets ready, via a shell that starts a grandchild. */
    static void hangingHelperTemplate(TestVm vm) throws IOException {
        Files.createDirectories(vm.templates);
        Files.writeString(
                vm.templates.resolve("testguest.ftl.yaml"),
                """
                "swtpm":
                  "executable": [ "/bin/sh" ]
                  "arguments": [ "-c", "sleep 600; true", "%s" ]
                "qemu":
                  "executable": [ "/usr/bin/qemu-system-x86_64" ]
                  "arguments": [ "-S" ]
                """
                        .formatted(vm.runtimeDir));
        Files.createDirectories(vm.dataDir);
        Files.writeString(vm.dataDir.resolve("tpm2-00.permall"), "");
    }

    /** Each signal of a harmless kind: the runner logs it and nothing else changes. */
    void harmless(TestVm vm, String state, long child) throws Exception {
        for (String signal : HARMLESS) {
            int offset = vm.log().length();
            long t = System.nanoTime();
            kill(vm.runnerPid(), signal);
            String expected =
                    switch (signal) {
                        case "HUP" -> "SIGHUP: reading";
                        case "USR1", "USR2" -> "SIG" + signal + ": VM e2e " + "";
                        case "QUIT" -> "Full thread dump";
                        default -> null;
                    };
            if (expected != null) {
                awaitAfter(vm, offset, expected);
            } else {
                Thread.sleep(Waits.scaled(Duration.ofMillis(500)).toMillis());
            }
            assertTrue(vm.runnerAlive(), "SIG" + signal + " ended the runner:\n" + vm.log());
            assertTrue(TestVm.alive(child), "SIG" + signal + " ended " + child);
            String outcome =
                    switch (signal) {
                        case "HUP" -> "configuration read again";
                        case "USR1", "USR2" -> "status line logged";
                        case "QUIT" -> "thread dump on stderr";
                        default -> "ignored";
                    };
            row("SIG" + signal + " while " + state, outcome + ", VM untouched", -1, t, "-");
        }
    }

    static void signals(TestVm vm, String list) throws Exception {
        for (String signal : list.split(",")) {
            if (vm.runnerAlive()) { // a stop while starting may have ended the runner already
                kill(vm.runnerPid(), signal);
            }
            Thread.sleep(300);
        }
    }

    static void kill(long pid, String signal) throws Exception {
        run("kill", "-" + signal, Long.toString(pid));
    }

    static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(
                p.waitFor(Waits.seconds(30).toMillis(), TimeUnit.MILLISECONDS),
                String.join(" ", command) + " hung");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
    }

    static void awaitAfter(TestVm vm, int offset, String text) throws Exception {
        Duration wait = Waits.scaled(WAIT);
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            String log = vm.log();
            if (log.length() > offset && log.substring(offset).contains(text)) {
                return;
            }
            Thread.sleep(20);
        }
        fail("no '" + text + "' in the log within " + wait + ":\n" + vm.log());
    }

    static void awaitFile(Path file, String text) throws Exception {
        long deadline = System.nanoTime() + Waits.scaled(TestVm.BOOT).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        fail("no '" + text + "' in " + file);
    }

    /**
     * QEMU or swtpm processes of this VM, found in /proc: the executable's name, and a command line
     * that names the VM's runtime or data directory.
     */
    static List<Long> processes(TestVm vm, String exePrefix) throws IOException {
        return vmProcesses(List.of(vm.runtimeDir, vm.dataDir), List.of(exePrefix)).stream()
                .map(p -> p.pid)
                .toList();
    }

    record Proc(long pid, String exe) {}

    static List<Proc> vmProcesses(List<Path> dirs, List<String> exePrefixes) throws IOException {
        List<Proc> found = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path proc : procs) {
                try {
                    String exe =
                            Files.readSymbolicLink(proc.resolve("exe")).getFileName().toString();
                    if (exePrefixes.stream().noneMatch(exe::startsWith)) {
                        continue;
                    }
                    String cmdline =
                            new String(
                                            Files.readAllBytes(proc.resolve("cmdline")),
                                            StandardCharsets.UTF_8)
                                    .replace('\0', ' ');
                    if (dirs.stream().anyMatch(d -> cmdline.contains(d.toString()))) {
                        found.add(new Proc(Long.parseLong(proc.getFileName().toString()), exe));
                    }
                } catch (IOException | RuntimeException e) {
                    // gone meanwhile, or a kernel thread
                }
            }
        }
        return found;
    }

    /**
     * What of the VM still runs a few seconds after the runner ended: qemu, swtpm, swtpm_setup or
     * the test's helper shell naming the VM's directories, and the given pids (and their sessions).
     */
    static String leftovers(TestVm vm, Object... more) throws Exception {
        List<Path> dirs = new ArrayList<>(List.of(vm.runtimeDir, vm.dataDir));
        List<Long> pids = new ArrayList<>();
        for (Object o : more) {
            if (o instanceof Path p) {
                dirs.add(p);
            } else {
                pids.add((Long) o);
            }
        }
        List<String> left = List.of();
        long deadline = System.nanoTime() + Waits.seconds(10).toNanos();
        do {
            left = new ArrayList<>();
            for (Proc p :
                    vmProcesses(dirs, List.of("qemu-system", "swtpm", "dash", "sh", "sleep"))) {
                left.add(p.exe + "(" + p.pid + ")");
            }
            for (long pid : pids) {
                if (TestVm.alive(pid)) {
                    left.add("pid " + pid);
                }
                for (long member : session(pid)) {
                    left.add("pid " + member + " of session " + pid);
                }
            }
            if (left.isEmpty()) {
                return "none";
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        return String.join(", ", left);
    }

    static List<Long> session(long sid) throws IOException {
        List<Long> members = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path proc : procs) {
                try {
                    String stat = Files.readString(proc.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    long pid = Long.parseLong(proc.getFileName().toString());
                    if (Long.parseLong(f[3]) == sid && pid != sid) {
                        members.add(pid);
                    }
                } catch (IOException | RuntimeException e) {
                    // gone meanwhile
                }
            }
        }
        return members;
    }

    /** The files under the directories, relative names, for "nothing left behind". */
    static List<String> files(Path... roots) throws IOException {
        List<String> all = new ArrayList<>();
        for (Path root : roots) {
            if (!Files.exists(root)) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(root)) {
                walk.filter(p -> !p.equals(root))
                        .filter(p -> !p.getFileName().toString().equals("fill"))
                        .sorted(Comparator.naturalOrder())
                        .forEach(p -> all.add(root.getFileName() + "/" + root.relativize(p)));
            }
        }
        return all;
    }

    static void row(String fault, String outcome, int code, long sinceNanos, String left) {
        ROWS.add(
                String.format(
                        "| %s | %s | %s | %.1f s | %s |",
                        fault,
                        outcome,
                        code < 0 ? "(runs on)" : Integer.toString(code),
                        (System.nanoTime() - sinceNanos) / 1e9,
                        left));
    }

    @AfterAll
    static void writeTable() throws IOException {
        List<String> rows = new ArrayList<>(ROWS);
        rows.sort(Comparator.naturalOrder());
        String table =
                "| case | outcome | exit code | time | leftovers |\n|---|---|---|---|---|\n"
                        + String.join("\n", rows)
                        + String.format(
                                "%n%nSuite time: %.0f s%n",
                                (System.nanoTime() - SUITE_START) / 1e9);
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/fault-table.md"), table);
        System.out.println("Fault table:\n" + table);
    }
}
