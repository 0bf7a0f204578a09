package dev.vmrunner.config;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@link ConfigWatcher}'s watch keys: the real directory of the file and of every link on the
 * way to it ({@link WatchTargets}), kept in step with where the file resolves, and what their
 * events say about the file. Used by start() and then by the watcher thread only.
 */
final class WatchedDirectories {
    // The watcher's logger: these messages are the watcher's.
    private static final Logger LOG = Logger.getLogger(ConfigWatcher.class.getName());

    private final Path file;
    private final WatchService service;
    private final Map<Path, WatchKey> keys = new HashMap<>();
    private Map<Path, Set<String>> targets = Map.of();
    private boolean replacedInRound;

    WatchedDirectories(Path file) throws IOException {
        this.file = file;
        this.service = FileSystems.getDefault().newWatchService();
    }

    /** Waits for the next key with events. */
    WatchKey take() throws InterruptedException {
        return service.take();
    }

    /** A key with events already queued, or null. */
    WatchKey poll() {
        return service.poll();
    }

    /** A key with events within {@code nanos}, or null. */
    WatchKey poll(long nanos) throws InterruptedException {
        return service.poll(nanos, TimeUnit.NANOSECONDS);
    }

    /** Ends the watches; a thread waiting in {@link #take()} gets a ClosedWatchServiceException. */
    void close() throws IOException {
        service.close();
    }

    /** Starts a round of {@link #classify} calls. */
    void startRound() {
        replacedInRound = false;
    }

    /** Whether an event of this round said that the file or a link to it was created. */
    boolean replacedInRound() {
        return replacedInRound;
    }

    /** The file's own directory must be watchable; the other directories are best effort. */
    void watchDirectory() throws IOException {
        Path dir = file.getParent();
        try {
            register(dir.toRealPath());
        } catch (IOException e) {
            throw new IOException("Failed to watch config directory " + dir + ": " + e, e);
        }
    }

    /** What the events of a round say about the file. */
    enum Kind {
        /** Nothing that can change the content. */
        NONE,
        /** Only entries created: a rename or link swap, complete when its event comes. */
        REPLACED,
        /** Written in place, deleted, overflowed, or a directory gone: may still be changing. */
        CHANGING;

        Kind and(Kind other) {
            return compareTo(other) >= 0 ? this : other;
        }
    }

    /** Takes the key's events and re-arms it; what they may mean for the content. */
    Kind classify(WatchKey key) {
        Set<String> names = targets.get((Path) key.watchable());
        Kind kind = names == null ? Kind.CHANGING : Kind.NONE;
        for (WatchEvent<?> event : key.pollEvents()) {
            if (event.kind() == OVERFLOW) {
                kind = Kind.CHANGING;
            } else if (names != null && names.contains(String.valueOf(event.context()))) {
                kind = kind.and(event.kind() == ENTRY_CREATE ? Kind.REPLACED : Kind.CHANGING);
                replacedInRound |= event.kind() == ENTRY_CREATE;
            }
        }
        if (!key.reset()) {
            keys.values().remove(key);
            kind = Kind.CHANGING; // a watched directory went away: links may point elsewhere now
        }
        return kind;
    }

    /**
     * Registers the directories the file now resolves through and drops the others. Called before
     * each read (after one, see {@code ConfigWatcher.refreshNow}), so a later change is either in a
     * watched directory or changes a link in one. True when it registered a directory not watched
     * before.
     */
    boolean rewatch(boolean strict) {
        boolean added = false;
        Map<Path, Set<String>> wanted = WatchTargets.of(file);
        for (Path dir : wanted.keySet()) {
            if (!keys.containsKey(dir)) {
                try {
                    register(dir);
                    added = true;
                } catch (IOException e) {
                    // Typically a kubelet timestamp directory deleted right after we saw it.
                    LOG.log(
                            strict && !(e instanceof NoSuchFileException)
                                    ? Level.WARNING
                                    : Level.FINE,
                            "Failed to watch directory " + dir + " for " + file,
                            e);
                }
            }
        }
        for (Iterator<Map.Entry<Path, WatchKey>> it = keys.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Path, WatchKey> entry = it.next();
            if (!wanted.containsKey(entry.getKey())) {
                entry.getValue().cancel();
                it.remove();
            }
        }
        if (keys.isEmpty()) {
            LOG.warning(
                    "No directory of "
                            + file
                            + " can be watched any more; changes to it"
                            + " are no longer seen");
        }
        targets = wanted;
        return added;
    }

    private void register(Path dir) throws IOException {
        keys.put(dir, dir.register(service, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY));
    }
}
