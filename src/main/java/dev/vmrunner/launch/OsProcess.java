package dev.vmrunner.launch;

import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.files.AtomicFiles;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A real child process. Its output (stdout and stderr merged) goes to the log line by line,
 * prefixed with its name, at the level each line reads as ({@link ChildOutput}); its pid is written
 * to {@code <runtimeDir>/<name>.pid}.
 *
 * <p>Children run in a session of their own (via util-linux {@code setsid}, which execs in place,
 * so the pid stays that of the child): Ctrl-C in a terminal signals the whole foreground process
 * group, and QEMU would otherwise quit at once instead of letting the runner power the guest down.
 * The session also holds what the child started ({@code swtpm_setup} runs a {@code swtpm} of its
 * own), also once the child is gone and those were handed to init: stopping the child stops its
 * whole session, and what is left in it when the child exits is asked to end (SIGTERM). The pid
 * file goes when the child exits, so that no pid file names a process that ended (a finished {@code
 * swtpm_setup}).
 */
public final class OsProcess implements ChildProcess {

    private static final Logger LOG = Logger.getLogger("vmrunner.child");
    private static final int KEPT_LINES = 20;
    private static final int MAX_LINE = 4096;
    private static final long OUTPUT_DRAIN_MILLIS = 200;
    private static final Path SETSID = findSetsid();

    private final String name;
    private final Process process;
    private final Deque<String> tail = new ArrayDeque<>(KEPT_LINES);
    private final CompletableFuture<ChildProcess> exited = new CompletableFuture<>();

    private final Path pidFile;

    private OsProcess(String name, Process process, Path pidFile) {
        this.name = name;
        this.process = process;
        this.pidFile = pidFile;
    }

    /** Returns a starter that writes pid files into the given runtime directory. */
    public static ChildProcess.Starter starter(Path runtimeDir) {
        return spec -> start(spec, runtimeDir);
    }

    public static OsProcess start(ProcessSpec spec, Path runtimeDir) throws LaunchException {
        List<String> command = new ArrayList<>();
        if (SETSID != null) {
            command.add(SETSID.toString());
        }
        command.addAll(spec.argv());
        ProcessBuilder builder =
                new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().putAll(spec.environment());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new LaunchException(
                    "Failed to start "
                            + spec.name()
                            + " ("
                            + spec.executable()
                            + "): "
                            + e.getMessage(),
                    e);
        }
        OsProcess child =
                new OsProcess(
                        spec.name(),
                        process,
                        runtimeDir.resolve(RuntimeFiles.pidFile(spec.name())));
        LOG.fine(
                () ->
                        "Started "
                                + spec.name()
                                + " (pid "
                                + process.pid()
                                + "): "
                                + String.join(" ", spec.argv()));
        Thread pump = new Thread(child::pumpOutput, spec.name() + "-output");
        pump.setDaemon(true);
        pump.start();
        // Report the exit once the output is drained, so that a failure message can quote
        // the process's last words; a grandchild holding the pipe open must not delay it long.
        var unused =
                process.onExit()
                        .thenRun(
                                () -> {
                                    try {
                                        pump.join(OUTPUT_DRAIN_MILLIS);
                                    } catch (InterruptedException e) {
                                        Thread.currentThread().interrupt();
                                    }
                                    child.afterExit();
                                    child.exited.complete(child);
                                });
        try {
            AtomicFiles.replaceQuickly(
                    runtimeDir.resolve(RuntimeFiles.pidFile(spec.name())),
                    (process.pid() + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            LOG.warning(
                    () -> "Failed to write pid file for " + spec.name() + ": " + e.getMessage());
        }
        return child;
    }

    /** What the child left in its session serves nobody now; its pid file names nobody. */
    private void afterExit() {
        try {
            // SIGTERM, not SIGKILL: swtpm_setup's swtpm may still be saving the state it made.
            for (ProcessHandle p : sessionMembers()) {
                LOG.fine(() -> "Ending pid " + p.pid() + ", left running by " + name);
                p.destroy();
            }
            String mine = process.pid() + "\n";
            if (Files.exists(pidFile) && Files.readString(pidFile).equals(mine)) {
                Files.delete(pidFile);
            }
        } catch (IOException | RuntimeException e) {
            LOG.fine(() -> "Failed to clean up after " + name + ": " + e);
        }
    }

    /**
     * The other processes of the child's session (setsid made the child its leader: the session id
     * is the child's pid, and the kernel keeps that id from reuse while the session has members);
     * without setsid, the child's descendants.
     */
    private List<ProcessHandle> sessionMembers() {
        if (SETSID == null) {
            return process.descendants().toList();
        }
        List<ProcessHandle> members = new ArrayList<>();
        long sid = process.pid();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path proc : procs) {
                long pid = Long.parseLong(proc.getFileName().toString());
                if (pid != sid && sessionOf(proc) == sid) {
                    ProcessHandle.of(pid).ifPresent(members::add);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.fine(() -> "Failed to list the session of " + name + ": " + e);
            return process.descendants().toList();
        }
        return members;
    }

    /** The session id from /proc/PID/stat: the fourth field after the command's closing paren. */
    private static long sessionOf(Path proc) {
        try {
            String stat = Files.readString(proc.resolve("stat"), StandardCharsets.US_ASCII);
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[3]);
        } catch (IOException | RuntimeException e) {
            return -1; // gone meanwhile
        }
    }

    /**
     * Logs the output line by line. A line longer than {@link #MAX_LINE} characters is logged in
     * pieces of that length, so that a child that never ends a line cannot fill the heap.
     */
    private void pumpOutput() {
        try (BufferedReader in =
                new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0) {
                if (c == '\n') {
                    int end = line.length();
                    line(
                            line.substring(
                                    0, end > 0 && line.charAt(end - 1) == '\r' ? end - 1 : end));
                    line.setLength(0);
                } else {
                    line.append((char) c);
                    if (line.length() == MAX_LINE) {
                        line(line.toString());
                        line.setLength(0);
                    }
                }
            }
            if (line.length() > 0) {
                line(line.toString());
            }
        } catch (IOException e) {
            LOG.log(Level.FINE, "Output of " + name + " ended", e);
        }
    }

    private void line(String line) {
        remember(line);
        ChildOutput.log(LOG, name, line);
    }

    private void remember(String line) {
        synchronized (tail) {
            if (tail.size() == KEPT_LINES) {
                tail.removeFirst();
            }
            tail.addLast(line);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public CompletableFuture<ChildProcess> onExit() {
        return exited;
    }

    @Override
    public int exitCode() {
        return process.exitValue();
    }

    /** SIGTERM to the process and to the rest of its session (what it started). */
    @Override
    public void terminate() {
        sessionMembers().forEach(ProcessHandle::destroy);
        process.destroy();
    }

    @Override
    public void kill() {
        sessionMembers().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    @Override
    public List<String> lastOutput() {
        synchronized (tail) {
            return List.copyOf(tail);
        }
    }

    private static Path findSetsid() {
        for (String candidate : List.of("/usr/bin/setsid", "/bin/setsid")) {
            Path path = Path.of(candidate);
            if (Files.isExecutable(path)) {
                return path;
            }
        }
        return null;
    }
}
