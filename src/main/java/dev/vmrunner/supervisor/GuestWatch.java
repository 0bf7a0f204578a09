package dev.vmrunner.supervisor;

import dev.vmrunner.agent.AgentException;
import dev.vmrunner.agent.GuestAgent;
import dev.vmrunner.agent.GuestAgentWatcher;
import dev.vmrunner.agent.GuestInfo;
import dev.vmrunner.kube.VmFacts;
import dev.vmrunner.status.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Logger;

/**
 * The guest agent as the supervisor uses it: watched from the loop once the vCPUs run ({@link
 * GuestAgentWatcher}), its facts kept for the status, and asked to power the guest off when the
 * runner stops it. A VM whose template has no agent channel gets none of this and behaves as
 * before. Loop thread only.
 */
final class GuestWatch implements GuestAgentWatcher.Listener {
    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** How long the sync and each agent command may take (the guest may be busy booting). */
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(3);

    /** How often an agent that has not answered is asked again. */
    private static final Duration PROBE = Duration.ofSeconds(1);

    /** How often the facts (addresses may change) are refreshed once the agent answers. */
    private static final Duration REFRESH = Duration.ofSeconds(60);

    private final Loop loop;
    private final GuestAgent agent;
    private final GuestAgentWatcher watcher;
    private final VmFacts facts;

    /** The agent's port opened again after the guest booted: say when it answers again. */
    private boolean restarted;

    private GuestWatch(Loop loop, Path socket, VmFacts facts) {
        this.loop = loop;
        this.facts = facts;
        this.agent = new GuestAgent(socket, COMMAND_TIMEOUT);
        this.watcher = new GuestAgentWatcher(agent, this::schedule, this, PROBE, REFRESH);
    }

    /**
     * The watch of the agent whose channel QEMU serves at {@code socket}, or null when there is no
     * such channel (QEMU makes its server sockets before it answers QMP, so it is there by now).
     */
    static GuestWatch ifChannel(Loop loop, Path socket, VmFacts facts) {
        if (!Files.exists(socket)) {
            LOG.fine(() -> "No guest agent channel at " + socket);
            return null;
        }
        return new GuestWatch(loop, socket, facts);
    }

    /** The vCPUs run: the guest is booting. */
    void start() {
        watcher.start();
    }

    /** The VM was reset: the guest boots again. */
    void reset() {
        restarted = false;
        watcher.reset();
    }

    /**
     * The guest opened a virtio-serial port ({@code VSERPORT_CHANGE}): an agent that restarts opens
     * its port again. Ask now instead of at the next refresh.
     */
    void portOpened() {
        if (watcher.booted()) {
            restarted = true;
            watcher.askNow();
        }
    }

    /**
     * The runner stops the VM: ask the agent first (the guest shuts down as its administrator
     * would), if it answers; the power button is pressed as well, so a guest whose agent ignores
     * the request still powers off.
     */
    void askPowerOff() {
        if (!watcher.reachable()) {
            return;
        }
        LOG.info("Asking the guest agent to power the guest off");
        loop.whenDone(
                agent.shutdown("powerdown"),
                (ok, error) -> {
                    if (error != null) {
                        LOG.info(
                                () ->
                                        "The guest agent did not take the shutdown request: "
                                                + error.getMessage()
                                                + "; the power button decides");
                    }
                });
    }

    /** Stops asking; the VM is gone. */
    void close() {
        watcher.stop();
        agent.close();
    }

    /**
     * What the agent said, for the status; null while it has not answered and has not misbehaved.
     */
    Status.Guest status() {
        GuestInfo info = watcher.info().orElse(null);
        String misbehaving = agent.misbehaving();
        long disconnects = agent.misbehaviours();
        if (info == null && misbehaving == null && disconnects == 0) {
            return null;
        }
        return new Status.Guest(
                watcher.booted(),
                watcher.bootedAt().orElse(null),
                info == null || info.os() == null ? null : info.os().describe(),
                info == null ? null : info.hostName(),
                info == null || info.timeZone() == null ? null : info.timeZone().zone(),
                info == null ? null : info.addresses(),
                misbehaving,
                disconnects);
    }

    @Override
    public void booted(GuestInfo now, Duration sinceStart) {}

    @Override
    public void updated(GuestInfo now) {
        if (restarted) {
            restarted = false;
            LOG.info(() -> "Guest agent answers again after it restarted: " + now.describe());
        }
    }

    @Override
    public void unreachable(AgentException cause) {
        facts.agentLost(cause.getMessage());
    }

    /**
     * The watcher's scheduler. Answers arrive on the agent's thread and are handed over with no
     * delay: those are posted (thread-safe); its own timers are set on the loop thread.
     */
    private GuestAgentWatcher.Cancellable schedule(Duration delay, Runnable task) {
        if (delay.isZero()) {
            loop.post(new Event.Continuation(task));
            return () -> {};
        }
        Loop.Timer timer = loop.schedule(delay, task);
        return timer::cancel;
    }
}
