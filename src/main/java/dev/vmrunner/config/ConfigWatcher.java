package dev.vmrunner.config;

import dev.vmrunner.config.WatchedDirectories.Kind;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Watches the configuration file and reports each new content, however the file is replaced:
 * written in place, renamed over (also vim's rename-away-and-write), deleted and recreated, a
 * symbolic link into another directory, or a Kubernetes ConfigMap volume (links into a {@code
 * ..data} link that the kubelet swaps by {@code rename(2)}).
 *
 * <p>One daemon thread blocks in {@link WatchService#take()} (inotify on Linux); there is no
 * polling. It watches the real directory of the file and of every link on the way to it ({@link
 * WatchTargets}), and only events for those entries (or an overflow) count. Each round first takes
 * every event already queued, so a burst is one read. A round whose events all say that an entry
 * was created (a rename over the file, the kubelet's {@code ..data} swap, a link swap) reads the
 * file at once: such a replacement is complete when its event comes. Any other round (an in-place
 * write, which may still be going on, a deletion, an overflow) first waits until no event has come
 * for {@code settle} (at most ten times as long under a constant stream of events). The watcher
 * compares bytes: timestamps alone never trigger a callback. Events that come during the read or
 * the callback are queued by the {@code WatchService} and cause one more round, so the last write
 * is always delivered.
 *
 * <p>A file that is missing, not a regular file (a directory, a FIFO), larger than 1 MiB or
 * unreadable is not delivered: it is logged at WARNING (once until it changes) and skipped until
 * the next event; the consumer keeps what it had. Reads are bounded ({@link ConfigFile}), so no
 * file can exhaust the heap, and the thread survives any exception or error of a round: it logs it
 * and goes on waiting.
 *
 * <p>An in-place write that pauses longer than {@code settle} between its parts can be delivered in
 * parts: first the partial content, then the whole. The consumer validates.
 */
public final class ConfigWatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ConfigWatcher.class.getName());
    private static final int MAX_SETTLE_ROUNDS = 10;
    private static final long JOIN_MILLIS = 5_000;
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Path file;
    private final Consumer<byte[]> onChange;
    private final long settleNanos;
    private final WatchedDirectories watches;
    private final Thread thread;
    private volatile boolean closed;

    // Written by start() before the thread starts, then by the watcher thread only.
    private byte[] last;
    private byte[] atStart;
    private String lastProblem;

    private ConfigWatcher(
            Path file, byte[] initialContent, Consumer<byte[]> onChange, Duration settle)
            throws IOException {
        this.file = file;
        this.onChange = onChange;
        this.settleNanos = settle.toNanos();
        this.last = initialContent == null ? null : initialContent.clone();
        this.watches = new WatchedDirectories(file);
        this.thread = new Thread(this::run, "config-watcher-" + THREADS.incrementAndGet());
        thread.setDaemon(true);
    }

    /**
     * Watches {@code file}; calls {@code onChange} with the new content (bytes as read) whenever it
     * differs from the last content seen. Callbacks come from the watcher's thread, one at a time,
     * in order.
     *
     * @param initialContent the content the caller already has; {@code null} to read it now (a file
     *     missing now makes its first content a change)
     * @param settle how long events must pause before a file written in place is read, e.g. 20 ms;
     *     a replaced file is read at once
     * @throws IOException if the file's directory cannot be watched
     */
    public static ConfigWatcher start(
            Path file, byte[] initialContent, Consumer<byte[]> onChange, Duration settle)
            throws IOException {
        Objects.requireNonNull(onChange, "onChange");
        if (settle.isNegative()) {
            throw new IllegalArgumentException("settle must not be negative: " + settle);
        }
        ConfigWatcher watcher =
                new ConfigWatcher(file.toAbsolutePath(), initialContent, onChange, settle);
        try {
            watcher.watches.watchDirectory();
            watcher.watches.rewatch(true);
            watcher.readAtStart(initialContent == null);
        } catch (IOException | RuntimeException e) {
            watcher.watches.close();
            throw e;
        }
        watcher.thread.start();
        return watcher;
    }

    /** Stops watching; no callback starts after this returns. A second call does nothing. */
    @Override
    public void close() {
        closed = true;
        try {
            watches.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "Failed to close the watch service for " + file, e);
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(JOIN_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                LOG.warning(
                        "Config watcher for "
                                + file
                                + " did not stop within "
                                + JOIN_MILLIS
                                + " ms: a change handler is still running");
            }
        }
    }

    /** The watcher's thread, for tests. */
    Thread thread() {
        return thread;
    }

    /**
     * Reads the file once now that it is watched, on the caller's thread so that a write after
     * start() returns is always seen as an event, never half-read here.
     */
    private void readAtStart(boolean initial) {
        if (initial) {
            last = read();
        } else {
            atStart = read(); // the caller's content may be stale; the thread reports this
        }
    }

    private void run() {
        boolean first = true;
        while (!closed) {
            try {
                if (first) {
                    first = false;
                    deliver(atStart);
                    atStart = null;
                } else {
                    round(watches.take());
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                if (!closed) {
                    LOG.log(Level.WARNING, "Config watcher for " + file + " stopped", e);
                }
                return;
            } catch (RuntimeException | Error e) {
                // Whatever went wrong in this round, later changes must still be seen.
                survive(e);
            }
        }
    }

    private void survive(Throwable e) {
        LOG.log(
                Level.WARNING,
                "Config watcher for " + file + " failed, watching on: " + e,
                e instanceof VirtualMachineError ? null : e);
        try {
            Thread.sleep(Math.max(1, settleNanos / 1_000_000)); // no busy loop on a lasting fault
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    /**
     * One round from {@code key} and whatever else is queued: nothing, an immediate read after a
     * complete replacement, or a read once events pause.
     */
    private void round(WatchKey key) throws InterruptedException {
        watches.startRound();
        Kind kind = watches.classify(key);
        for (WatchKey queued = watches.poll(); queued != null; queued = watches.poll()) {
            kind = kind.and(watches.classify(queued));
        }
        if (kind == Kind.NONE) {
            return;
        }
        // A replacement is read at once even when the round has more (a ConfigMap update also
        // deletes the old data directory); what may still be changing is read again once settled.
        boolean read = watches.replacedInRound() && refreshNow();
        if (kind == Kind.REPLACED && read) {
            return;
        }
        settle();
        refresh();
    }

    /** Waits until events pause for {@code settle}, bounded under a constant stream. */
    private void settle() throws InterruptedException {
        long deadline = System.nanoTime() + MAX_SETTLE_ROUNDS * settleNanos;
        for (; ; ) {
            long wait = Math.min(settleNanos, deadline - System.nanoTime());
            if (wait <= 0) {
                return;
            }
            WatchKey key = watches.poll(wait);
            if (key == null) {
                return;
            }
            watches.classify(key);
        }
    }

    /**
     * Reads a replaced file at once; false (nothing read for good) when it is empty or missing: a
     * file created empty is most likely still being written, so the caller settles. Also false when
     * the file, read again, changed in a directory that was not watched yet (no event tells what
     * kind of change that was, so it is read once writes have paused).
     */
    private boolean refreshNow() {
        byte[] content = readQuietly();
        if (content == null || content.length == 0) {
            return false;
        }
        lastProblem = null;
        deliver(content);
        // Only then do the watches follow the replacement (each directory added or dropped is a
        // round trip to the JDK's watch thread). A change made meanwhile in a watched directory
        // has its events queued for the next round; one in a newly watched directory has none.
        return !watches.rewatch(false) || Arrays.equals(content, readQuietly());
    }

    /** The file's content, or null when it is missing or cannot be read now. */
    private byte[] readQuietly() {
        try {
            return ConfigFile.read(file);
        } catch (NoSuchFileException | ConfigException e) {
            return null;
        }
    }

    /** Watches where the file now resolves, then reads it and reports a new content. */
    private void refresh() {
        watches.rewatch(false);
        deliver(read());
    }

    /** Reports {@code content} if it is new. */
    private void deliver(byte[] content) {
        if (content == null || Arrays.equals(content, last)) {
            return;
        }
        last = content;
        if (closed) {
            return;
        }
        try {
            onChange.accept(content.clone());
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "Config change handler failed for " + file + ": " + e, e);
        }
    }

    /** The file's content, or {@code null} (logged) if it cannot be used now. */
    private byte[] read() {
        try {
            byte[] content = ConfigFile.read(file);
            lastProblem = null;
            return content;
        } catch (NoSuchFileException e) {
            problem(
                    "Config file "
                            + file
                            + " is missing (deleted or being replaced); the VM keeps its last"
                            + " configuration until the file is back");
        } catch (ConfigException e) {
            problem(
                    "Ignoring the changed configuration, the VM keeps its last configuration: "
                            + e.getMessage());
        }
        return null;
    }

    /** Logs a problem with the file at WARNING, and again only once it has changed. */
    private void problem(String message) {
        if (message.equals(lastProblem)) {
            LOG.fine(message);
        } else {
            lastProblem = message;
            LOG.warning(message);
        }
    }
}
