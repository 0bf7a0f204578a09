package dev.vmrunner.supervisor;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.launch.ProcessSpec;
import dev.vmrunner.launch.TpmSetup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The start, one step after the other on the loop: TPM state (first start only), swtpm and its
 * socket, the cloud-init seed image, then QEMU (paused). A step that fails, and any step after a
 * stop was asked for, ends the sequence.
 */
final class StartSequence {

    /** What the sequence needs from the supervisor. */
    interface Host {
        boolean starting();

        void failStart(String message);

        void qemuStarted(ChildProcess qemu);
    }

    private static final Duration POLL = Duration.ofMillis(5);

    private final RunnerConfig config;
    private final Commands commands;
    private final Duration helperStart;
    private final Loop loop;
    private final Children children;
    private final Host host;

    StartSequence(
            RunnerConfig config,
            Commands commands,
            Duration helperStart,
            Loop loop,
            Children children,
            Host host) {
        this.config = config;
        this.commands = commands;
        this.helperStart = helperStart;
        this.loop = loop;
        this.children = children;
        this.host = host;
    }

    void begin() {
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
        if (start(spec) != null) {
            awaitSocket(
                    config.runtimeDir().resolve(RuntimeFiles.SWTPM),
                    loop.clock().nanoTime() + helperStart.toNanos());
        }
    }

    /** Polls for swtpm's socket; swtpm's exit ends the wait too (as a failed start). */
    private void awaitSocket(Path socket, long deadlineNanos) {
        if (!host.starting()) {
            return;
        }
        if (Files.exists(socket)) {
            startSeedImage();
        } else if (loop.clock().nanoTime() - deadlineNanos > 0) {
            host.failStart(
                    "swtpm did not create its socket "
                            + socket
                            + " within "
                            + helperStart.toSeconds()
                            + " s (a slow host stretches this with "
                            + Timeouts.SCALE_ENV
                            + ")");
        } else {
            loop.schedule(POLL, () -> awaitSocket(socket, deadlineNanos));
        }
    }

    private void startSeedImage() {
        if (commands.cloudInitImg().isPresent()) {
            runOneShot(
                    commands.cloudInitImg().get(),
                    "to make the cloud-init seed image",
                    this::startQemu);
        } else {
            startQemu();
        }
    }

    /** Starts a helper that must finish with exit code 0 before the start goes on. */
    private void runOneShot(ProcessSpec spec, String purpose, Runnable then) {
        if (!host.starting()) {
            return;
        }
        try {
            children.startOneShot(spec, purpose, then);
        } catch (LaunchException e) {
            host.failStart(e.getMessage());
        }
    }

    private void startQemu() {
        if (!host.starting()) {
            return;
        }
        ChildProcess qemu = start(commands.qemu());
        if (qemu != null) {
            host.qemuStarted(qemu);
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
