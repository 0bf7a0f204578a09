package dev.vmrunner.launch;

import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.files.AtomicFiles;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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

    private OsProcess(String name, Process process) {
        this.name = name;
        this.process = process;
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
        OsProcess child = new OsProcess(spec.name(), process);
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

    /**
     * SIGTERM to the process and to what it started (swtpm_setup runs a swtpm of its own): those
     * are seen only while their parent lives, so they are asked first.
     */
    @Override
    public void terminate() {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
    }

    @Override
    public void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
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
