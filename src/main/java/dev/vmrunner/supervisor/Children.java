package dev.vmrunner.supervisor;

import dev.vmrunner.launch.ChildProcess;
import dev.vmrunner.launch.LaunchException;
import dev.vmrunner.launch.ProcessSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The VM's child processes: started, their exits turned into events, stopped with SIGTERM and then
 * SIGKILL. Used on the supervisor's loop thread only.
 */
final class Children {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** A helper that must finish with exit code 0 before the start goes on. */
    record OneShot(ProcessSpec spec, String purpose, Runnable then) {}

    private final Loop loop;
    private ChildProcess.Starter starter;
    private final Duration killGrace;
    private final List<ChildProcess> all = new ArrayList<>();
    private final Set<ChildProcess> exited = new HashSet<>();
    private final Map<ChildProcess, OneShot> oneShots = new HashMap<>();
    private Runnable whenAllExited;

    Children(Loop loop, ChildProcess.Starter starter, Duration killGrace) {
        this.loop = loop;
        this.starter = starter;
        this.killGrace = killGrace;
    }

    /** Starts a child; its exit arrives on the loop as {@link Event.ChildExited}. */
    ChildProcess start(ProcessSpec spec) throws LaunchException {
        ChildProcess child = starter.start(spec);
        all.add(child);
        var unused = child.onExit().thenRun(() -> loop.post(new Event.ChildExited(child)));
        return child;
    }

    /** From now on children are started with {@code next} (fresh starts after an adoption). */
    void startWith(ChildProcess.Starter next) {
        starter = next;
    }

    /** Takes on a process an earlier runner started (an adopted QEMU or swtpm). */
    void adopt(ChildProcess child) {
        all.add(child);
        var unused = child.onExit().thenRun(() -> loop.post(new Event.ChildExited(child)));
    }

    void startOneShot(ProcessSpec spec, String purpose, Runnable then) throws LaunchException {
        oneShots.put(start(spec), new OneShot(spec, purpose, then));
    }

    /** The one-shot a child was started as, or null. */
    OneShot oneShot(ChildProcess child) {
        return oneShots.get(child);
    }

    /** The child started under this name (the last one), or null. */
    ChildProcess named(String name) {
        for (int i = all.size() - 1; i >= 0; i--) {
            if (all.get(i).name().equals(name)) {
                return all.get(i);
            }
        }
        return null;
    }

    /** Lets go of every child without stopping it (an adoption that did not happen). */
    void forgetAll() {
        all.clear();
        oneShots.clear();
    }

    void exited(ChildProcess child) {
        exited.add(child);
        if (whenAllExited != null && allExited()) {
            Runnable then = whenAllExited;
            whenAllExited = null;
            then.run();
        }
    }

    /** Runs {@code then} once every child has exited: now, or after the last exit. */
    void whenAllExited(Runnable then) {
        if (allExited()) {
            then.run();
        } else {
            whenAllExited = then;
        }
    }

    boolean hasExited(ChildProcess child) {
        return exited.contains(child);
    }

    boolean allExited() {
        return exited.containsAll(all);
    }

    /**
     * SIGTERM to every child now, SIGKILL to those left after the grace period. The timers hold the
     * children of now: those of a fresh start that follows are not theirs.
     */
    void terminateAll() {
        terminate(List.copyOf(all));
    }

    private void terminate(List<ChildProcess> these) {
        for (ChildProcess child : these) {
            if (child.isAlive()) {
                child.terminate();
            }
        }
        loop.schedule(killGrace, () -> kill(these));
    }

    /** Like {@link #terminateAll}, after a delay, for helpers that usually end by themselves. */
    void terminateAllAfter(Duration delay) {
        List<ChildProcess> these = List.copyOf(all);
        loop.schedule(delay, () -> terminate(these));
    }

    /** Whether {@code child} is one of this run's (not one of a run before a fresh start). */
    boolean isCurrent(ChildProcess child) {
        return all.contains(child);
    }

    void killLeftovers() {
        kill(all);
    }

    private static void kill(List<ChildProcess> these) {
        for (ChildProcess child : these) {
            if (child.isAlive()) {
                LOG.warning(() -> "Killing " + child.name() + " (pid " + child.pid() + ")");
                child.kill();
            }
        }
    }

    static String describeExit(ChildProcess child, int code) {
        if (!child.exitStatusKnown()) {
            return child.name()
                    + " (pid "
                    + child.pid()
                    + ", started by an earlier runner) ended; its exit status is unknown";
        }
        return code > 128
                ? child.name() + " was killed by signal " + (code - 128)
                : child.name() + " exited with code " + code;
    }

    static String lastWords(ChildProcess child) {
        List<String> lines = child.lastOutput();
        return lines.isEmpty() ? "" : "; its last output:\n    " + String.join("\n    ", lines);
    }
}
