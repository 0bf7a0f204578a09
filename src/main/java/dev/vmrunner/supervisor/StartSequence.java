package dev.vmrunner.supervisor;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.console.ConsoleTail;
import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.launch.ProcessSpec;
import dev.vmrunner.launch.TpmSetup;
import dev.vmrunner.status.State;
import dev.vmrunner.supervisor.claim.RunnerState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The start, one step after the other on the loop: TPM state (first start only), swtpm and its
 * socket, the cloud-init seed image, passt and its socket, then QEMU (paused). A step that fails,
 * and any step after a stop was asked for, ends the sequence. A failed start ends every child
 * ({@link Teardown#terminateAll}): no guest data is at stake yet.
 */
final class StartSequence implements Opening {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private static final Duration POLL = Duration.ofMillis(5);

    private final RunnerConfig config;
    private final Commands commands;
    private final Duration helperStart;
    private final Loop loop;
    private final Children children;
    private final Lifecycle life;
    private final Teardown teardown;
    private final Host host;
    private final String content;

    /** The console log QEMU is to write: followed from its start once QEMU runs. */
    private Path consoleLog;

    StartSequence(
            RunnerConfig config,
            String content,
            Commands commands,
            Duration helperStart,
            Parts parts,
            Teardown teardown,
            Host host) {
        this.config = config;
        this.content = content;
        this.commands = commands;
        this.helperStart = helperStart;
        this.loop = parts.loop();
        this.children = parts.children();
        this.life = parts.life();
        this.teardown = teardown;
        this.host = host;
    }

    @Override
    public void begin() {
        consoleLog = ConsoleTail.logFile(commands.qemu().arguments(), config.runtimeDir());
        if (consoleLog != null) {
            // QEMU appends (logappend=on, so that the file can be truncated once read): what it
            // holds is this run's console only, as with a console file QEMU truncates itself.
            try {
                Files.deleteIfExists(consoleLog);
            } catch (IOException e) {
                LOG.fine(() -> "Failed to remove " + consoleLog + ": " + e.getMessage());
            }
        } else {
            LOG.fine("The template gives the serial console no log file: not copied to the log");
        }
        startTpm();
    }

    @Override
    public boolean vcpusRun() {
        return false;
    }

    @Override
    public void failed() {
        life.ending.startFailed = true;
        teardown.terminateAll();
    }

    @Override
    public boolean monitorClosed() {
        return false;
    }

    @Override
    public byte[] toApply() {
        return null;
    }

    @Override
    public void close() {
        TpmSetup.discardStaging(config);
    }

    private boolean starting() {
        return life.state() == State.STARTING;
    }

    private void startTpm() {
        if (commands.swtpm().isEmpty()) {
            startSeedImage();
            return;
        }
        ProcessSpec swtpm = commands.swtpm().get();
        Optional<ProcessSpec> setup;
        try {
            setup = TpmSetup.standard().command(config, swtpm);
        } catch (LaunchException e) {
            host.failStart(e.getMessage());
            return;
        }
        if (setup.isPresent()) {
            runOneShot(
                    setup.get(),
                    "to create the TPM state in " + config.dataDir(),
                    () -> commitTpmState(swtpm));
        } else {
            startSwtpm(swtpm);
        }
    }

    private void commitTpmState(ProcessSpec swtpm) {
        try {
            TpmSetup.commit(config);
        } catch (LaunchException e) {
            host.failStart(e.getMessage());
            return;
        }
        startSwtpm(swtpm);
    }

    private void startSwtpm(ProcessSpec spec) {
        startServing(spec, RuntimeFiles.SWTPM, this::startSeedImage);
    }

    /** Starts a helper that serves QEMU on a socket, and goes on once the socket is there. */
    private void startServing(ProcessSpec spec, String socketName, Runnable then) {
        Path socket = config.runtimeDir().resolve(socketName);
        try {
            // One left by an earlier run would let the wait end before the helper listens.
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.fine(() -> "Failed to remove " + socket + ": " + e.getMessage());
        }
        if (start(spec) != null) {
            awaitSocket(spec.name(), socket, loop.clock().nanoTime() + helperStart.toNanos(), then);
        }
    }

    /** Polls for a helper's socket; the helper's exit ends the wait too (as a failed start). */
    private void awaitSocket(String name, Path socket, long deadlineNanos, Runnable then) {
        if (!starting()) {
            return;
        }
        if (Files.exists(socket)) {
            then.run();
        } else if (loop.clock().nanoTime() - deadlineNanos > 0) {
            host.failStart(
                    name
                            + " did not create its socket "
                            + socket
                            + " within "
                            + helperStart.toSeconds()
                            + " s (a slow host stretches this with "
                            + Timeouts.SCALE_ENV
                            + ")");
        } else {
            loop.schedule(POLL, () -> awaitSocket(name, socket, deadlineNanos, then));
        }
    }

    private void startSeedImage() {
        if (commands.cloudInitImg().isPresent()) {
            runOneShot(
                    commands.cloudInitImg().get(),
                    "to make the cloud-init seed image",
                    this::startPasst);
        } else {
            startPasst();
        }
    }

    private void startPasst() {
        if (!starting()) {
            return;
        }
        if (commands.passt().isPresent()) {
            startServing(commands.passt().get(), RuntimeFiles.PASST, this::startQemu);
        } else {
            startQemu();
        }
    }

    /** Starts a helper that must finish with exit code 0 before the start goes on. */
    private void runOneShot(ProcessSpec spec, String purpose, Runnable then) {
        if (!starting()) {
            return;
        }
        try {
            children.startOneShot(spec, purpose, then);
        } catch (LaunchException e) {
            host.failStart(e.getMessage());
        }
    }

    private void startQemu() {
        if (!starting()) {
            return;
        }
        ChildProcess qemu = start(commands.qemu());
        if (qemu != null) {
            host.qemuStarted(
                    qemu,
                    new RunnerState(content, content, Set.of()),
                    Set.of(),
                    () -> consoleLog == null ? null : ConsoleTail.follow(consoleLog, true));
        }
    }

    private ChildProcess start(ProcessSpec spec) {
        try {
            return children.start(spec);
        } catch (LaunchException e) {
            host.failStart(e.getMessage());
            return null;
        }
    }
}
