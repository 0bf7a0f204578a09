package dev.vmrunner.supervisor.claim;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.files.IoFailure;
import dev.vmrunner.supervisor.claim.VmClaim.ClaimException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Runner against runner, the first half of {@link VmClaim}: an exclusive lock on {@code
 * <dataDir>/runner.lock}, held while the runner lives and dropped by the kernel when it dies; the
 * file names the holder's pid for the message that refuses a second runner. The launcher's flock on
 * the same file (an overlapped start, bin/vmrunner) counts as held too: the two kinds of lock do
 * not exclude each other on Linux, so each side looks for the other's ({@link LockTable}).
 */
final class RunnerLock {
    private RunnerLock() {}

    static FileChannel lock(RunnerConfig config) throws ClaimException {
        return lock(config, VmClaim.LOCK_FILE, "another vmrunner");
    }

    /**
     * Locks {@code name} in the data directory; {@code holder} names who holds it in the message
     * that refuses.
     */
    static FileChannel lock(RunnerConfig config, String name, String holder) throws ClaimException {
        Path dataDir = config.dataDir();
        Path file = dataDir.resolve(name);
        FileChannel channel;
        try {
            if (!Files.isDirectory(dataDir)) {
                Files.createDirectories(dataDir.toAbsolutePath().getParent());
                try {
                    Files.createDirectory(
                            dataDir,
                            PosixFilePermissions.asFileAttribute(
                                    PosixFilePermissions.fromString("rwx------")));
                } catch (FileAlreadyExistsException e) {
                    // a runner started at the same moment made it: the lock decides
                }
            }
            channel =
                    FileChannel.open(
                            file,
                            StandardOpenOption.CREATE,
                            StandardOpenOption.READ,
                            StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new ClaimException(IoFailure.message("open the lock file", file, e), false, e);
        }
        try {
            FileLock held = tryLock(channel, file);
            if (held != null && LockTable.now().foreignFlockOn(LockTable.fileId(file))) {
                // A launcher holds it while it starts QEMU for the runner it becomes
                // (bin/vmrunner).
                VmClaim.closeQuietly(channel);
                throw new ClaimException(
                        "VM "
                                + config.vm().name()
                                + " is being started by another vmrunner (its launcher holds "
                                + file
                                + "); stop that runner first (SIGTERM powers the guest down)",
                        true,
                        null);
            }
            if (held == null) {
                String pid = holderPid(channel);
                VmClaim.closeQuietly(channel);
                throw new ClaimException(
                        "VM "
                                + config.vm().name()
                                + " is already run by "
                                + holder
                                + (pid.isEmpty() ? "" : " (pid " + pid + ")")
                                + " (lock "
                                + file
                                + "); stop that runner first (SIGTERM powers the guest down)",
                        true,
                        null);
            }
            byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(pid), 0);
            return channel;
        } catch (IOException e) {
            VmClaim.closeQuietly(channel);
            throw new ClaimException(IoFailure.message("lock", file, e), false, e);
        }
    }

    /**
     * The lock, or null while another holds it. A runner whose launcher holds the file's flock (an
     * overlapped start) waits a moment: a runner started at the same moment without that flock may
     * hold the lock only until it has seen the flock, and then lets go.
     */
    private static FileLock tryLock(FileChannel channel, Path file) throws IOException {
        boolean launcherHolds = false;
        for (int i = 0; ; i++) {
            FileLock held;
            try {
                held = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                return null; // this JVM holds it already
            }
            if (held != null) {
                return held;
            }
            if (i == 0) {
                launcherHolds = LockTable.now().holdsFlockOn(LockTable.fileId(file));
            }
            if (!launcherHolds || i == 40) {
                return null;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /**
     * The lock holder's pid. A runner started at the same moment may hold the lock but not yet have
     * written its pid (it truncates, then writes): read again for a moment.
     */
    private static String holderPid(FileChannel channel) {
        String pid = readPid(channel);
        for (int i = 0; i < 20 && pid.isEmpty(); i++) {
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            pid = readPid(channel);
        }
        return pid;
    }

    private static String readPid(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(32);
            channel.read(buffer, 0);
            return new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII)
                    .strip();
        } catch (IOException e) {
            return "";
        }
    }
}
