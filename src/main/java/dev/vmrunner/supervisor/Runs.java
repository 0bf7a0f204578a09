package dev.vmrunner.supervisor;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.launch.Commands;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.supervisor.power.Answer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.logging.Logger;

/**
 * The VM's runs in this runner: the {@link Opening} of the current one, and a fresh start of a
 * stopped VM ({@code vmrunner start}, {@code vm.state: Running}) with the configuration of then,
 * rendered anew and started by the {@link StartSequence} as the runner's first start is (TPM state,
 * NVRAM and the cloud-init seed as then). Loop thread only.
 */
final class Runs implements PowerControl.Runs {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** The first configuration: a fresh start keeps its name and directories (the claim's). */
    private final RunnerConfig first;

    private final Parts parts;
    private final Teardown teardown;
    private final Duration helperStart;
    private Boot boot;
    private Opening current;
    private byte[] content;
    private Supervisor.Preparer preparer;

    Runs(RunnerConfig first, byte[] content, Parts parts, Teardown teardown, Duration helperStart) {
        this.first = first;
        this.content = content;
        this.parts = parts;
        this.teardown = teardown;
        this.helperStart = helperStart;
    }

    /** Once it exists: what a started QEMU is handed to. Before any opening is made. */
    void bootWith(Boot boot) {
        this.boot = boot;
    }

    /** The first run's opening. */
    void first(Opening opening) {
        this.current = opening;
    }

    Opening current() {
        return current;
    }

    /** How fresh starts get their commands. */
    void prepareWith(Supervisor.Preparer preparer) {
        this.preparer = preparer;
    }

    /** The configuration file's content, accepted: what a fresh start starts with. */
    void fileAccepted(byte[] accepted) {
        content = accepted;
    }

    /** A start of QEMU with {@code commands}, for the configuration {@code started}. */
    Opening startSequence(RunnerConfig started, Commands commands) {
        return new StartSequence(
                started,
                new String(content, StandardCharsets.UTF_8),
                commands,
                helperStart,
                parts,
                teardown,
                boot);
    }

    @Override
    public Answer startAfresh() {
        RunnerConfig now = parts.live().current();
        if (!now.dataDir().equals(first.dataDir())
                || !now.runtimeDir().equals(first.runtimeDir())
                || !now.vm().name().equals(first.vm().name())) {
            return Answer.refused(
                    "vm.name, dataDir or runtimeDir changed: restart the runner to start the VM"
                            + " with them");
        }
        if (preparer == null) {
            return Answer.refused("this runner cannot start the VM (it has no template)");
        }
        Commands commands;
        try {
            commands = preparer.prepare(now);
        } catch (LaunchException e) {
            parts.life().error("Failed to start VM " + now.vm().name() + ": " + e.getMessage());
            return Answer.refused(e.getMessage());
        }
        current.close();
        parts.life().restart();
        teardown.newRun();
        parts.monitor().reopen();
        parts.live().restarted();
        parts.children().forgetAll();
        current = startSequence(now, commands);
        LOG.info(() -> "Starting VM " + now.vm().name() + " afresh in this runner");
        current.begin();
        return Answer.ok("VM " + now.vm().name() + " is starting");
    }

    /**
     * The run is over, the VM stays stopped: the files its processes left in the runtime directory
     * go (a stale swtpm socket would let the next start go on before the new swtpm listens, and a
     * stale runner-state.json would describe a QEMU that is gone). The status socket stays.
     */
    @Override
    public void over() {
        boot.close();
        Path dir = first.runtimeDir();
        for (String name : STALE) {
            try {
                Files.deleteIfExists(dir.resolve(name));
            } catch (IOException e) {
                LOG.fine(() -> "Failed to remove " + dir.resolve(name) + ": " + e);
            }
        }
    }

    private static final List<String> STALE =
            List.of(
                    RuntimeFiles.MONITOR,
                    RuntimeFiles.SWTPM,
                    RuntimeFiles.GUEST_AGENT,
                    RuntimeFiles.CONSOLE,
                    RuntimeFiles.SEED_IMAGE,
                    RuntimeFiles.STATE,
                    RuntimeFiles.pidFile("qemu"),
                    RuntimeFiles.pidFile("swtpm"));
}
