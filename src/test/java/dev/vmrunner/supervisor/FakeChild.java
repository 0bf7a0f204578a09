package dev.vmrunner.supervisor;

import dev.vmrunner.launch.ChildProcess;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * A child process the test controls: it exits when the test says so, or when SIGTERM or SIGKILL
 * reach it (SIGTERM can be set to be ignored, as by a frozen QEMU).
 */
final class FakeChild implements ChildProcess {
    private static final AtomicLong PIDS = new AtomicLong(4_000_000);

    private final String name;
    private final long pid = PIDS.incrementAndGet();
    private final CompletableFuture<ChildProcess> exited = new CompletableFuture<>();
    private volatile int exitCode = -1;
    volatile boolean ignoresTerm;
    volatile int terminations;
    volatile int kills;

    /** Runs when SIGTERM arrives and the child does not ignore it; returns the exit code. */
    volatile IntSupplier onTerm = () -> 143;

    FakeChild(String name) {
        this.name = name;
    }

    synchronized void exit(int code) {
        if (exitCode < 0) {
            exitCode = code;
            exited.complete(this);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public boolean isAlive() {
        return exitCode < 0;
    }

    @Override
    public CompletableFuture<ChildProcess> onExit() {
        return exited;
    }

    @Override
    public int exitCode() {
        return exitCode;
    }

    @Override
    @SuppressWarnings("NonAtomicVolatileUpdate") // only the loop thread writes; tests read
    public void terminate() {
        terminations++;
        if (!ignoresTerm) {
            exit(onTerm.getAsInt());
        }
    }

    @Override
    @SuppressWarnings("NonAtomicVolatileUpdate") // only the loop thread writes; tests read
    public void kill() {
        kills++;
        exit(137);
    }

    @Override
    public List<String> lastOutput() {
        return List.of();
    }
}
