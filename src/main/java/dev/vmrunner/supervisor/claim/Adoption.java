package dev.vmrunner.supervisor.claim;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.QmpConnection;
import dev.vmrunner.qmp.VcpuSlot;
import dev.vmrunner.qmp.VmStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Taking on a QEMU that an earlier runner of this VM left running (it was killed, it crashed, it is
 * being upgraded): what the new runner needs to supervise it as if it had started it.
 *
 * @param qemu the verified live QEMU
 * @param swtpmPid its swtpm, when the VM has one that still runs
 * @param started the configuration QEMU was started with: what needs a restart is measured against
 *     it
 * @param applied the configuration last applied to QEMU: the new file is diffed against it, and the
 *     live keys against what QEMU reports
 * @param emptiedSlots vCPU slots an unplug emptied in this QEMU run
 * @param runState QEMU's run state when it was probed ({@code running}, {@code prelaunch}, ...)
 * @param startedContent the configuration file's content that {@code started} came from
 * @param appliedContent the same for {@code applied}
 * @param stopping the powerdown the earlier runner had begun, null when none: the new runner goes
 *     on with it to the same deadline
 */
public record Adoption(
        LiveQemu qemu,
        Long swtpmPid,
        RunnerConfig started,
        RunnerConfig applied,
        Set<VcpuSlot> emptiedSlots,
        String runState,
        String startedContent,
        String appliedContent,
        RunnerState.Stopping stopping) {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** How long a QEMU may take to answer on its monitor before it is refused. */
    public static final Duration ANSWER_WITHIN = Duration.ofSeconds(10);

    /** {@code emptiedSlots} is null when unknown (the earlier runner left no state). */
    public Adoption {
        emptiedSlots = emptiedSlots == null ? null : Set.copyOf(emptiedSlots);
    }

    /**
     * Prepares the adoption of the claim's QEMU, or refuses it: a QEMU that does not answer on its
     * monitor within {@link #ANSWER_WITHIN} is left untouched.
     *
     * @param current the configuration as the file says now
     */
    public static Adoption prepare(
            VmClaim claim, RunnerConfig current, byte[] content, Map<String, String> env)
            throws VmClaim.ClaimException {
        String currentContent = new String(content, StandardCharsets.UTF_8);
        LiveQemu qemu = claim.adoptable().orElseThrow();
        String runState = probe(qemu);
        Optional<RunnerState> state = RunnerState.read(claim.runtimeDir());
        if (state.isEmpty()) {
            LOG.warning(
                    "The earlier runner left no state: the configuration QEMU runs with is taken"
                            + " to be the current one, and on QEMU 7.2 no vCPU is plugged into a"
                            + " free slot (one may have been emptied by an unplug)");
        }
        RunnerConfig started =
                state.map(s -> parse(s.startedConfig(), current, env)).orElse(current);
        RunnerConfig applied =
                state.map(s -> parse(s.appliedConfig(), current, env)).orElse(current);
        return new Adoption(
                qemu,
                LiveQemu.findSwtpm(claim.runtimeDir(), Processes.PROC).orElse(null),
                started,
                applied,
                state.map(RunnerState::emptiedSlots).orElse(null),
                runState,
                state.map(RunnerState::startedConfig).orElse(currentContent),
                state.map(RunnerState::appliedConfig).orElse(currentContent),
                state.map(RunnerState::stopping).orElse(null));
    }

    private static String probe(LiveQemu qemu) throws VmClaim.ClaimException {
        long started = System.nanoTime();
        try (QmpConnection c = QmpConnection.connect(qemu.monitor(), ANSWER_WITHIN, null)) {
            long left = ANSWER_WITHIN.toNanos() - (System.nanoTime() - started);
            VmStatus status =
                    new Qmp(c, Duration.ofNanos(Math.max(left, 1)))
                            .queryStatus()
                            .get(Math.max(left, 1), TimeUnit.NANOSECONDS);
            return status.status();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw refused(qemu, "interrupted");
        } catch (Exception e) {
            throw refused(qemu, e.getMessage());
        }
    }

    private static VmClaim.ClaimException refused(LiveQemu qemu, String why) {
        return new VmClaim.ClaimException(
                "QEMU (pid "
                        + qemu.pid()
                        + ") of this VM is running without a runner, but does not answer on its"
                        + " monitor "
                        + qemu.monitor()
                        + " within "
                        + ANSWER_WITHIN.toSeconds()
                        + " s ("
                        + why
                        + "); it was not adopted and is left untouched",
                true,
                null);
    }

    private static RunnerConfig parse(String yaml, RunnerConfig current, Map<String, String> env) {
        try {
            return ConfigLoader.parseWithWarnings(
                            yaml.getBytes(StandardCharsets.UTF_8), current.configFile(), env)
                    .config();
        } catch (ConfigException e) {
            LOG.warning(() -> "Ignoring the earlier runner's configuration: " + e.getMessage());
            return current;
        }
    }
}
