package dev.vmrunner.prestart;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.console.ConsoleTail;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.QmpConnection;
import dev.vmrunner.supervisor.claim.Adoption;
import dev.vmrunner.supervisor.claim.LiveQemu;
import dev.vmrunner.supervisor.claim.LockTable;
import dev.vmrunner.supervisor.claim.Processes;
import dev.vmrunner.supervisor.claim.VmClaim;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A QEMU the launcher started, paused, from the command line of the last start ({@link
 * PrestartCache}) while this JVM booted: the runner takes it on only once it is sure it is exactly
 * the VM it would start itself.
 *
 * <p>The launcher hands it over in the environment ({@value #PID_ENV}: its pid; QEMU is this
 * process's child, because the launcher's {@code exec} kept the pid) and guards it with a token
 * file in the runtime directory ({@link #TOKEN}): the launcher's watchdog removes it and ends QEMU
 * when no runner took it within its bound (or the runner's process is gone); the runner removes it
 * to take QEMU. Whoever removes it owns QEMU, so the watchdog can never end a QEMU the runner
 * continued.
 *
 * <p>Before QEMU's guest runs ({@code cont}), all of this must hold, else QEMU is ended (it never
 * ran guest code: SIGTERM is safe) and the VM starts the ordinary way:
 *
 * <ul>
 *   <li>the claim's live QEMU is this one, and it is this process's child;
 *   <li>the token was still there (no watchdog ended it);
 *   <li>the runner's render needs QEMU only, and its argv is identical to QEMU's {@code
 *       /proc/PID/cmdline};
 *   <li>the claim is held: the runner's lock, and the launcher's flock on the same file inherited;
 *   <li>QEMU's monitor answers, and QEMU is in {@code prelaunch} (no guest code ran).
 * </ul>
 *
 * @param pid the pre-started QEMU's pid
 */
public record Prestarted(long pid) {

    /** The pre-started QEMU's pid, set by the launcher. */
    public static final String PID_ENV = "VMRUNNER_PRESTARTED";

    /** Why the launcher did not start QEMU, set by the launcher (for the log). */
    public static final String MISS_ENV = "VMRUNNER_PRESTART_MISS";

    /** The token in the runtime directory; bin/vmrunner uses the same name. */
    public static final String TOKEN = "prestart.pending";

    private static final Logger LOG = Logger.getLogger("vmrunner");
    private static final Duration GRACE = Duration.ofSeconds(2);
    private static final Duration EXEC_WITHIN = Duration.ofSeconds(5);

    /** The pre-started QEMU the launcher hands over, if any. */
    public static Optional<Prestarted> fromEnvironment(Map<String, String> env) {
        String pid = env.get(PID_ENV);
        if (pid == null) {
            String miss = env.get(MISS_ENV);
            if (miss != null) {
                LOG.info(() -> "Ordinary start: the launcher started nothing (" + miss + ")");
            }
            return Optional.empty();
        }
        try {
            return Optional.of(new Prestarted(Long.parseLong(pid)));
        } catch (NumberFormatException e) {
            LOG.warning(() -> "Ignoring " + PID_ENV + "=" + pid + ": not a pid");
            return Optional.empty();
        }
    }

    /**
     * Waits (at most 5 s) until the launcher's child has become QEMU ({@code exec}), so that the
     * claim sees it as the live QEMU it is: before, it would find a runtime directory without one
     * and clear it. A child that does not become QEMU in time is ended.
     */
    public void awaitExec() {
        long deadline = System.nanoTime() + EXEC_WITHIN.toNanos();
        while (Processes.PROC.alive(pid) && !isQemu()) {
            if (System.nanoTime() - deadline > 0) {
                refused("it did not become QEMU within " + EXEC_WITHIN.toSeconds() + " s");
                end();
                return;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private boolean isQemu() {
        return Processes.PROC
                .executable(pid)
                .map(p -> String.valueOf(p.getFileName()).startsWith("qemu"))
                .orElse(false);
    }

    /**
     * The QEMU a launcher started that this runner must verify, take or end, if the claim found
     * one: the one this runner's launcher handed over ({@code handedOver}), or any QEMU whose token
     * is still in the runtime directory (its launcher's runner died before it took it: never to be
     * adopted as one an earlier runner left, since its watchdog would end it). Any other QEMU the
     * claim found is adopted or refused as before.
     */
    public static Optional<Prestarted> pendingIn(
            VmClaim claim, RunnerConfig config, Optional<Prestarted> handedOver) {
        Optional<Long> live = claim.adoptable().map(LiveQemu::pid);
        if (live.isEmpty()) {
            return Optional.empty();
        }
        boolean ours = handedOver.map(p -> p.pid() == live.get()).orElse(false);
        if (ours || Files.exists(config.runtimeDir().resolve(TOKEN))) {
            return Optional.of(new Prestarted(live.get()));
        }
        return Optional.empty();
    }

    /**
     * Verifies the pre-started QEMU against the runner's own render: the adoption to supervise, or
     * empty when it was ended (logged why) and the VM is to start the ordinary way.
     */
    public Optional<Adoption> take(
            RunnerConfig config, byte[] content, Commands commands, Duration answerWithin) {
        Path runtimeDir = config.runtimeDir();
        try {
            Files.delete(runtimeDir.resolve(TOKEN));
        } catch (NoSuchFileException e) {
            refused(
                    "the launcher's watchdog ended it: the runner was not up within its bound"
                            + " (VMRUNNER_TIMEOUT_SCALE stretches it)");
            gone(GRACE.multipliedBy(3)); // the watchdog's SIGTERM, then its SIGKILL
            return Optional.empty();
        } catch (IOException e) {
            return refusedAndEnded("its token cannot be removed: " + e.getMessage());
        }
        String mismatch = mismatch(config, commands);
        if (mismatch == null) {
            mismatch = notPaused(RuntimeFiles.monitor(config), answerWithin);
        }
        if (mismatch != null) {
            return refusedAndEnded(mismatch);
        }
        truncateConsole(commands, runtimeDir);
        LOG.info(
                () ->
                        "Overlapped start: QEMU (pid "
                                + pid
                                + ") started by the launcher is the VM's render; taking it on");
        return Optional.of(
                new Adoption(
                        new LiveQemu(pid, RuntimeFiles.monitor(config)),
                        null,
                        config,
                        config,
                        Set.of(),
                        "prelaunch",
                        new String(content, StandardCharsets.UTF_8),
                        new String(content, StandardCharsets.UTF_8),
                        null));
    }

    /** What differs between the pre-started QEMU and the runner's own start, or null. */
    String mismatch(RunnerConfig config, Commands commands) {
        boolean mine =
                ProcessHandle.of(pid)
                        .flatMap(ProcessHandle::parent)
                        .map(p -> p.pid() == ProcessHandle.current().pid())
                        .orElse(false);
        if (!mine) {
            return "it is not this runner's child: its launcher's runner is gone";
        }
        Optional<String> unsuitable = PrestartCache.unsuitable(commands);
        if (unsuitable.isPresent()) {
            return unsuitable.get();
        }
        List<String> running = Processes.PROC.commandLine(pid);
        List<String> rendered = commands.qemu().argv();
        if (!running.equals(rendered)) {
            return "its command line differs from the render: "
                    + firstDifference(running, rendered);
        }
        String lock = LockTable.fileId(config.dataDir().resolve("runner.lock"));
        if (lock == null || !LockTable.now().holdsFlockOn(lock)) {
            return "the launcher's lock on "
                    + config.dataDir().resolve("runner.lock")
                    + " is not held";
        }
        return null;
    }

    static String firstDifference(List<String> running, List<String> rendered) {
        int n = Math.min(running.size(), rendered.size());
        for (int i = 0; i < n; i++) {
            if (!running.get(i).equals(rendered.get(i))) {
                return "argument "
                        + i
                        + " is \""
                        + cut(running.get(i))
                        + "\", the render says \""
                        + cut(rendered.get(i))
                        + "\"";
            }
        }
        return running.size() + " arguments, the render has " + rendered.size();
    }

    private static String cut(String arg) {
        return arg.length() > 200 ? arg.substring(0, 200) + "..." : arg;
    }

    /** Null when QEMU answers on its monitor and no guest code ran yet. */
    private String notPaused(Path monitor, Duration within) {
        long started = System.nanoTime();
        try (QmpConnection c = QmpConnection.connect(monitor, within, null)) {
            long left = Math.max(1, within.toNanos() - (System.nanoTime() - started));
            String state =
                    new Qmp(c, Duration.ofNanos(left))
                            .queryStatus()
                            .get(left, TimeUnit.NANOSECONDS)
                            .status();
            return state.equals("prelaunch") ? null : "QEMU is " + state + ", not prelaunch";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while asking its monitor";
        } catch (Exception e) {
            return "its monitor " + monitor + " did not answer: " + e.getMessage();
        }
    }

    /** QEMU appends to the console log (logappend=on): what is there is the last run's. */
    private static void truncateConsole(Commands commands, Path runtimeDir) {
        Path log = ConsoleTail.logFile(commands.qemu().arguments(), runtimeDir);
        if (log != null && Files.exists(log)) {
            try (FileChannel file = FileChannel.open(log, StandardOpenOption.WRITE)) {
                file.truncate(0);
            } catch (IOException e) {
                LOG.fine(() -> "Failed to empty " + log + ": " + e.getMessage());
            }
        }
    }

    private void refused(String why) {
        LOG.warning(
                () ->
                        "Overlapped start refused: QEMU (pid "
                                + pid
                                + ") started by the launcher: "
                                + why
                                + "; starting the VM the ordinary way");
    }

    private Optional<Adoption> refusedAndEnded(String why) {
        refused(why + "; it ran no guest code and is ended");
        end();
        return Optional.empty();
    }

    /**
     * Ends the pre-started QEMU, which ran no guest code: SIGTERM, then SIGKILL after a grace
     * period; returns once it is gone. Not for a QEMU that {@link #take} took.
     */
    public void end() {
        Optional<ProcessHandle> qemu = ProcessHandle.of(pid);
        if (qemu.isEmpty()) {
            return;
        }
        qemu.get().destroy();
        if (!gone(GRACE)) {
            qemu.get().destroyForcibly();
            gone(GRACE);
        }
    }

    /** Waits for QEMU to end (a zombie counts as ended: this process never reaps it). */
    boolean gone(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (Processes.PROC.alive(pid)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
