package dev.vmrunner.supervisor.claim;

import dev.vmrunner.launch.ChildProcess;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A process of the VM that an earlier runner started (QEMU, swtpm) and this one adopted. It is not
 * the runner's child: its exit is noticed, not waited for ({@link ProcessHandle#onExit()} polls, at
 * most every 5 s; the supervisor looks sooner when QEMU's monitor closes), and its exit status is
 * unknown. Its output went to the earlier runner and is lost.
 */
public final class AdoptedProcess implements ChildProcess {

    private final String name;
    private final ProcessHandle handle;
    private final CompletableFuture<ChildProcess> exited = new CompletableFuture<>();

    private AdoptedProcess(String name, ProcessHandle handle) {
        this.name = name;
        this.handle = handle;
        var unused = handle.onExit().thenRun(() -> exited.complete(this));
    }

    /** The process with this pid, or null if it is gone already. */
    public static AdoptedProcess of(String name, long pid) {
        return ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .map(h -> new AdoptedProcess(name, h))
                .orElse(null);
    }

    /** Completes the exit at once when the process is gone (it may have ended just now). */
    public void checkGone() {
        if (!Processes.PROC.alive(handle.pid())) {
            exited.complete(this);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long pid() {
        return handle.pid();
    }

    @Override
    public boolean isAlive() {
        return !exited.isDone() && Processes.PROC.alive(handle.pid());
    }

    @Override
    public CompletableFuture<ChildProcess> onExit() {
        return exited;
    }

    @Override
    public int exitCode() {
        return -1;
    }

    @Override
    public boolean exitStatusKnown() {
        return false;
    }

    @Override
    public void terminate() {
        handle.destroy();
    }

    @Override
    public void kill() {
        handle.destroyForcibly();
    }

    @Override
    public List<String> lastOutput() {
        return List.of();
    }
}
