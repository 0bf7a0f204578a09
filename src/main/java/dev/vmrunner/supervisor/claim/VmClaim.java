package dev.vmrunner.supervisor.claim;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.files.IoFailure;
import dev.vmrunner.files.Trees;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * This runner's claim on its VM: the only runner of it, and no QEMU of it left running. Taken
 * before anything of the VM is written, cleaned up or started, so that a second runner can never
 * delete a live QEMU's sockets or start a second QEMU for the same disks.
 *
 * <ul>
 *   <li>Runner against runner: an exclusive lock on {@code <dataDir>/runner.lock}, held while the
 *       runner lives and dropped by the kernel when it dies, however it dies. Two runners started
 *       at once on one configuration: one gets the lock, the other is refused.
 *   <li>Runner against a QEMU left by a killed runner: its pid file and monitor socket in the
 *       runtime directory, verified against {@code /proc} ({@link LiveQemu}). Refused now; a runner
 *       that adopts such a QEMU replaces exactly this decision.
 * </ul>
 *
 * The runtime directory (sockets, pid files) is readable by the user only and removed on {@link
 * #release}; one that existed before is not removed as a whole (the user may have made it), only
 * the runner's files in it are.
 */
public final class VmClaim {

    private static final Logger LOG = Logger.getLogger("vmrunner");
    static final String LOCK_FILE = "runner.lock";

    /**
     * Held by the target runner of a live migration ({@code --incoming}) while it waits for the
     * guest: one target at a time, and a source that finds it unlocked knows that none waits.
     */
    public static final String INCOMING_LOCK_FILE = "incoming.lock";

    /**
     * Marks a runtime directory a runner made, so that the runner that ends the VM removes it as a
     * whole also when an earlier runner made it (an adopted QEMU).
     */
    static final String MADE_BY_RUNNER = ".made-by-vmrunner";

    private final Path runtimeDir;
    private FileChannel lockFile;
    private final boolean createdRuntimeDir;
    private final LiveQemu adoptable;

    private VmClaim(
            Path runtimeDir, FileChannel lockFile, boolean createdRuntimeDir, LiveQemu adoptable) {
        this.runtimeDir = runtimeDir;
        this.lockFile = lockFile;
        this.createdRuntimeDir = createdRuntimeDir;
        this.adoptable = adoptable;
    }

    /**
     * The QEMU of this VM that an earlier runner left running, verified: this runner adopts it
     * instead of starting one. Its files in the runtime directory are left as they are.
     */
    public Optional<LiveQemu> adoptable() {
        return Optional.ofNullable(adoptable);
    }

    Path runtimeDir() {
        return runtimeDir;
    }

    /** Why a claim failed. */
    public static final class ClaimException extends Exception {
        private static final long serialVersionUID = 1L;
        private final boolean alreadyRunning;

        ClaimException(String message, boolean alreadyRunning, Throwable cause) {
            super(message, cause);
            this.alreadyRunning = alreadyRunning;
        }

        /** True when the VM runs already (another runner, or a QEMU left by one). */
        public boolean alreadyRunning() {
            return alreadyRunning;
        }
    }

    /** Claims the VM, or explains why not; on failure nothing is left behind. */
    public static VmClaim acquire(RunnerConfig config) throws ClaimException {
        return acquire(config, Processes.PROC);
    }

    static VmClaim acquire(RunnerConfig config, Processes processes) throws ClaimException {
        boolean freshDataDir = !Files.isDirectory(config.dataDir());
        FileChannel lock;
        try {
            lock = RunnerLock.lock(config);
        } catch (ClaimException e) {
            if (freshDataDir && !e.alreadyRunning()) {
                forgetDataDir(config);
            }
            throw e;
        }
        try {
            Path dir = config.runtimeDir();
            LiveQemu live = Files.isDirectory(dir) ? liveQemu(config, dir, processes) : null;
            boolean created = live == null && prepareRuntimeDir(dir, processes);
            writePid(dir, created, live == null);
            return new VmClaim(dir, lock, created, live);
        } catch (ClaimException | RuntimeException e) {
            closeQuietly(lock);
            if (freshDataDir && !(e instanceof ClaimException c && c.alreadyRunning())) {
                forgetDataDir(config);
            }
            throw e;
        }
    }

    /**
     * Claims the VM as the target of a live migration: the source runner holds {@code runner.lock}
     * meanwhile, so this takes {@code incoming.lock} and its own runtime directory; {@link
     * #takeOver} takes {@code runner.lock} once the source has let go. Refused when no runner holds
     * the VM (nothing to migrate from), when another target waits, or when a QEMU runs in the
     * runtime directory (the source's: a target needs its own).
     */
    public static VmClaim acquireIncoming(RunnerConfig config) throws ClaimException {
        if (!Files.isDirectory(config.dataDir())) {
            throw new ClaimException(
                    "No runner runs VM "
                            + config.vm().name()
                            + " (no data directory "
                            + config.dataDir()
                            + "): nothing to migrate from; start it without --incoming",
                    false,
                    null);
        }
        FileChannel incoming =
                RunnerLock.lock(config, INCOMING_LOCK_FILE, "another target (--incoming)");
        try {
            RunnerLock.lock(config).close();
            closeQuietly(incoming);
            throw new ClaimException(
                    "No runner runs VM "
                            + config.vm().name()
                            + " ("
                            + config.dataDir().resolve(LOCK_FILE)
                            + " is free): nothing to migrate from; start it without --incoming",
                    false,
                    null);
        } catch (ClaimException e) {
            if (!e.alreadyRunning()) {
                closeQuietly(incoming);
                throw e;
            }
        } catch (IOException e) {
            closeQuietly(incoming);
            throw new ClaimException(IoFailure.message("check", config.dataDir(), e), false, e);
        }
        Path dir = config.runtimeDir();
        try {
            if (Files.isDirectory(dir) && LiveQemu.find(dir, Processes.PROC).isPresent()) {
                throw new ClaimException(
                        "A QEMU runs in the runtime directory "
                                + dir
                                + ": the target of a migration needs a runtime directory of its"
                                + " own",
                        true,
                        null);
            }
            boolean created = prepareRuntimeDir(dir, Processes.PROC);
            writePid(dir, created, true);
            return new VmClaim(dir, incoming, created, null);
        } catch (ClaimException | RuntimeException e) {
            closeQuietly(incoming);
            throw e;
        }
    }

    /**
     * The target of a migration takes the VM over: true once it holds {@code runner.lock} (the
     * source runner has ended); then {@code incoming.lock} is let go. False while the source holds
     * it; call again later.
     */
    public boolean takeOver(RunnerConfig config) {
        try {
            FileChannel runner = RunnerLock.lock(config);
            closeQuietly(lockFile);
            lockFile = runner;
            return true;
        } catch (ClaimException e) {
            return false;
        }
    }

    /**
     * The runner's pid file in the runtime directory; on failure what the claim made there is
     * removed first, unless {@code clean} is false (a live QEMU's files are there).
     */
    private static void writePid(Path dir, boolean created, boolean clean) throws ClaimException {
        try {
            Files.writeString(
                    dir.resolve(RuntimeFiles.RUNNER_PID),
                    ProcessHandle.current().pid() + "\n",
                    StandardCharsets.US_ASCII);
        } catch (IOException e) {
            if (clean) {
                new VmClaim(dir, null, created, null).release();
            }
            throw new ClaimException(
                    IoFailure.message(
                            "write the pid file", dir.resolve(RuntimeFiles.RUNNER_PID), e),
                    false,
                    e);
        }
    }

    /**
     * Lets go of the VM's lock before the rest of {@link #release}: for a source whose guest was
     * migrated, once its QEMU has exited, so that the target continues the guest sooner.
     */
    public void letGo() {
        closeQuietly(lockFile);
        lockFile = null;
    }

    /** A claim that failed leaves no data directory it made (a full or read-only disk). */
    private static void forgetDataDir(RunnerConfig config) {
        try {
            Files.deleteIfExists(config.dataDir().resolve(LOCK_FILE));
            Files.deleteIfExists(config.dataDir());
        } catch (IOException e) {
            LOG.fine(() -> "Failed to remove " + config.dataDir() + ": " + e);
        }
    }

    /** Creates the runtime directory, or clears one that holds no live VM. */
    private static boolean prepareRuntimeDir(Path dir, Processes processes) throws ClaimException {
        try {
            Files.createDirectories(dir.toAbsolutePath().getParent());
            Files.createDirectory(
                    dir,
                    PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rwx------")));
            try {
                Files.createFile(dir.resolve(MADE_BY_RUNNER));
            } catch (IOException full) {
                Files.deleteIfExists(dir); // nothing left behind
                throw full;
            }
            return true;
        } catch (FileAlreadyExistsException e) {
            try {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
                stopLeftoverSwtpm(dir, processes);
                new VmClaim(dir, null, false, null).removeRuntimeFiles();
            } catch (IOException io) {
                throw new ClaimException(
                        IoFailure.message("prepare the runtime directory", dir, io), false, io);
            }
            return false;
        } catch (IOException e) {
            throw new ClaimException(
                    IoFailure.message("create the runtime directory", dir, e), false, e);
        }
    }

    /**
     * A QEMU left running in this runtime directory, to be adopted; refused when it is another VM's
     * (another configuration with the same runtime directory).
     */
    private static LiveQemu liveQemu(RunnerConfig config, Path dir, Processes processes)
            throws ClaimException {
        Optional<LiveQemu> live = LiveQemu.find(dir, processes);
        if (live.isEmpty()) {
            return null;
        }
        long pid = live.get().pid();
        if (!live.get().isOf(config, processes)) {
            throw new ClaimException(
                    "QEMU (pid "
                            + pid
                            + ") running with the monitor "
                            + live.get().monitor()
                            + " is not VM "
                            + config.vm().name()
                            + " (its command line names neither that name nor its uuid):"
                            + " another configuration uses the runtime directory "
                            + dir
                            + "; nothing was started or removed",
                    true,
                    null);
        }
        return live.get();
    }

    /** A swtpm of an interrupted start holds the TPM state's lock; it serves no guest. */
    private static void stopLeftoverSwtpm(Path dir, Processes processes) {
        LiveQemu.findSwtpm(dir, processes)
                .flatMap(ProcessHandle::of)
                .ifPresent(
                        p -> {
                            LOG.warning(
                                    () -> "Stopping swtpm (pid " + p.pid() + ") left in " + dir);
                            p.destroy();
                        });
    }

    /**
     * Removes what the runner put into the runtime directory, then lets go of the VM. While a QEMU
     * of the VM still runs there (one that was not adopted, or one the runner could not stop), only
     * the runner's own pid file goes: QEMU's sockets and pid files stay for the next runner.
     */
    public void release() {
        try {
            if (LiveQemu.find(runtimeDir, Processes.PROC).isPresent()) {
                Files.deleteIfExists(runtimeDir.resolve(RuntimeFiles.RUNNER_PID));
                Files.deleteIfExists(runtimeDir.resolve(RuntimeFiles.STATUS));
            } else if (createdRuntimeDir || Files.exists(runtimeDir.resolve(MADE_BY_RUNNER))) {
                Trees.delete(runtimeDir);
            } else {
                removeRuntimeFiles();
            }
        } catch (IOException e) {
            LOG.warning(
                    () ->
                            "Failed to remove runtime directory "
                                    + runtimeDir
                                    + ": "
                                    + e.getMessage());
        } finally {
            closeQuietly(lockFile);
        }
    }

    private void removeRuntimeFiles() throws IOException {
        if (!Files.isDirectory(runtimeDir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(runtimeDir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (RuntimeFiles.ALL.contains(name) || name.endsWith(".pid")) {
                    Files.deleteIfExists(entry);
                }
            }
        }
    }

    static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing held any more
            }
        }
    }
}
