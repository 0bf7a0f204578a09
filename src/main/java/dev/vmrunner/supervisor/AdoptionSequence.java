package dev.vmrunner.supervisor;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.console.ConsoleTail;
import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.qmp.VcpuSlot;
import dev.vmrunner.supervisor.claim.AdoptedProcess;
import dev.vmrunner.supervisor.claim.Adoption;
import dev.vmrunner.supervisor.claim.RunnerState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The sibling of {@link StartSequence} for a QEMU (and swtpm) an earlier runner left running: takes
 * them on instead of starting anything. QEMU is not this runner's child, so its end is looked for
 * rather than waited for, and a QEMU that cannot be adopted is left as it was found ({@link
 * Teardown#leaveQemu}).
 */
final class AdoptionSequence implements Opening {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** An adopted run starts no process: every process it has, it found. */
    static final ChildProcess.Starter STARTS_NOTHING =
            spec -> {
                throw new LaunchException(
                        "Failed to start " + spec.name() + ": an adopted VM starts no process");
            };

    /**
     * How often, and how far apart, an adopted QEMU's end is looked for once its monitor closed.
     */
    private static final int LOOKS = 100;

    private static final Duration LOOK_PAUSE = Duration.ofMillis(50);

    private final RunnerConfig config;
    private final Adoption adoption;
    private final Loop loop;
    private final Children children;
    private final Lifecycle life;
    private final Teardown teardown;
    private final Host host;
    private byte[] toApply;

    /**
     * @param content the configuration file's content now: applied once QEMU is adopted
     */
    AdoptionSequence(
            RunnerConfig config,
            Adoption adoption,
            byte[] content,
            Parts parts,
            Teardown teardown,
            Host host) {
        this.config = config;
        this.adoption = adoption;
        this.toApply = content;
        this.loop = parts.loop();
        this.children = parts.children();
        this.life = parts.life();
        this.teardown = teardown;
        this.host = host;
    }

    @Override
    public void begin() {
        AdoptedProcess qemu = AdoptedProcess.of("qemu", adoption.qemu().pid());
        life.adoptedAt = Instant.now();
        if (qemu == null) {
            life.error("QEMU (pid " + adoption.qemu().pid() + ") ended before it could be adopted");
            teardown.terminateAll();
            return;
        }
        LOG.info(
                () ->
                        "Adopting QEMU (pid "
                                + qemu.pid()
                                + ") of VM "
                                + config.vm().name()
                                + ", left running by an earlier runner; QEMU is "
                                + adoption.runState());
        children.adopt(qemu);
        if (adoption.swtpmPid() != null) {
            ChildProcess swtpm = AdoptedProcess.of("swtpm", adoption.swtpmPid());
            if (swtpm != null) {
                children.adopt(swtpm);
            }
        }
        Set<VcpuSlot> emptied = adoption.emptiedSlots();
        Path consoleLog = config.dataDir().resolve("console.log");
        host.qemuStarted(
                qemu,
                new RunnerState(
                        adoption.startedContent(),
                        adoption.appliedContent(),
                        emptied == null ? Set.of() : emptied,
                        adoption.stopping()),
                emptied,
                () -> Files.exists(consoleLog) ? ConsoleTail.follow(consoleLog, false) : null);
        if (adoption.stopping() != null) {
            goOnStopping(adoption.stopping());
        }
    }

    /** The earlier runner was powering the guest down: its ladder goes on, to its deadline. */
    private void goOnStopping(RunnerState.Stopping stop) {
        LOG.info(
                () ->
                        "VM "
                                + config.vm().name()
                                + " was being stopped by the earlier runner; going on with the"
                                + " powerdown, deadline "
                                + Instant.ofEpochMilli(stop.deadline())
                                + " ("
                                + Math.max(0, stop.deadline() - loop.clock().wallMillis()) / 1000
                                + " s left)");
        teardown.resumePowerdown(stop);
    }

    @Override
    public boolean vcpusRun() {
        return !adoption.runState().equals("prelaunch");
    }

    /** Not this runner's QEMU to stop: it is left as it was found. */
    @Override
    public void failed() {
        life.error("QEMU (pid " + life.qemu.pid() + ") was not adopted and is left running");
        life.ending.refused = true;
        teardown.leaveQemu();
    }

    /**
     * Not the runner's child: its end is noticed, not waited for. Look now, and again shortly, as
     * it closes its socket just before it exits.
     */
    @Override
    public boolean monitorClosed() {
        if (life.qemu instanceof AdoptedProcess adopted && !children.hasExited(adopted)) {
            lookForExit(adopted, LOOKS);
            return true;
        }
        return false;
    }

    private void lookForExit(AdoptedProcess adopted, int looksLeft) {
        adopted.checkGone();
        if (adopted.isAlive() && looksLeft > 0) {
            loop.schedule(LOOK_PAUSE, () -> lookForExit(adopted, looksLeft - 1));
        } else if (adopted.isAlive() && !children.hasExited(adopted)) {
            LOG.warning("Lost the connection to the adopted QEMU's monitor; QEMU still runs");
            host.reconnect("the monitor closed");
        }
    }

    /** What the file says now, against what the earlier runner applied and QEMU reports. */
    @Override
    public byte[] toApply() {
        byte[] content = toApply;
        toApply = null;
        return content;
    }

    @Override
    public void close() {}
}
