package dev.vmrunner.supervisor.claim;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernel's table of file locks ({@code /proc/locks}), read to make the two kinds of lock on
 * {@code runner.lock} exclude each other. The runner's own lock is a POSIX record lock (Java's
 * {@code FileLock} is {@code fcntl}); the launcher, a shell script, can only take an {@code
 * flock(2)} lock ({@code flock(1)}), held on a descriptor the runner inherits through {@code exec}.
 * On Linux the two kinds never conflict, so each side takes its own lock first and then looks for
 * the other kind on the same file: whichever looks second sees the first, and backs off.
 *
 * <p>A lock's line reads {@code "1: FLOCK ADVISORY WRITE 1234 fe:00:2154518 0 EOF"}: its kind and
 * the file as {@code major:minor:inode}; a waiter's line has {@code ->} after the number. A
 * descriptor's own locks are the {@code lock:} lines of {@code /proc/self/fdinfo/<fd>}.
 */
public final class LockTable {

    private static final Path LOCKS = Path.of("/proc/locks");
    private static final Path MY_FDS = Path.of("/proc/self/fdinfo");

    private final List<String> locks;
    private final List<String> mine;

    LockTable(List<String> locks, List<String> mine) {
        this.locks = List.copyOf(locks);
        this.mine = List.copyOf(mine);
    }

    /** The table now, with the lock lines of this process's descriptors; empty without /proc. */
    public static LockTable now() {
        List<String> all;
        try {
            all = Files.readAllLines(LOCKS);
        } catch (IOException e) {
            return new LockTable(List.of(), List.of());
        }
        List<String> own = new java.util.ArrayList<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(MY_FDS)) {
            for (Path fd : fds) {
                try {
                    for (String line : Files.readAllLines(fd)) {
                        if (line.startsWith("lock:")) {
                            own.add(line.substring("lock:".length()).strip());
                        }
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            // no fdinfo: no flock of ours is seen, which only refuses more
        }
        return new LockTable(all, own);
    }

    /**
     * How the table names a file: {@code major:minor:inode}, the device numbers in hex of at least
     * two digits (the kernel's {@code "%02x:%02x:%lu"}); null when it cannot be read.
     */
    public static String fileId(Path file) {
        try {
            long dev = ((Number) Files.getAttribute(file, "unix:dev")).longValue();
            long ino = ((Number) Files.getAttribute(file, "unix:ino")).longValue();
            // glibc's gnu_dev_major/gnu_dev_minor
            long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
            long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
            return String.format(
                    java.util.Locale.ROOT,
                    "%02x:%02x:%s",
                    major,
                    minor,
                    Long.toUnsignedString(ino));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Whether an flock on {@code file} is held by a descriptor of another process. */
    boolean foreignFlockOn(String file) {
        if (file == null) {
            return false;
        }
        boolean held = false;
        for (String line : locks) {
            String[] f = fields(line);
            if (f != null && f[1].equals("FLOCK") && f[5].equals(file)) {
                held = true;
            }
        }
        return held && !holdsFlockOn(file);
    }

    /** Whether one of this process's descriptors holds an flock on {@code file}. */
    public boolean holdsFlockOn(String file) {
        if (file == null) {
            return false;
        }
        for (String line : mine) {
            String[] f = fields(line);
            if (f != null && f[1].equals("FLOCK") && f[5].equals(file)) {
                return true;
            }
        }
        return false;
    }

    /** number, kind, mode, access, pid, file; null for a waiter's line or a damaged one. */
    private static String[] fields(String line) {
        String[] f = line.strip().split("\\s+");
        if (f.length < 6 || f[1].equals("->")) {
            return null;
        }
        return f;
    }
}
