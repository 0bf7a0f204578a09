package dev.vmrunner.supervisor.migrate;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.files.AtomicFiles;
import dev.vmrunner.supervisor.claim.VmClaim;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.logging.Logger;

/**
 * What a target runner tells its source through the VM's data directory, which both see: that it
 * waits ({@code incoming.lock} held, see {@link VmClaim#INCOMING_LOCK_FILE}) and the {@link Shape}
 * it was started with ({@code incoming.shape}). The source reads both before any guest state moves.
 */
public final class TargetFacts {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** The target's {@link Shape}, in the data directory. */
    public static final String SHAPE_FILE = "incoming.shape";

    private static final int MAX_BYTES = 16 * 1024;

    private TargetFacts() {}

    /** The target writes its shape, once it holds {@code incoming.lock}. */
    public static void write(RunnerConfig config) throws IOException {
        AtomicFiles.write(
                config.dataDir().resolve(SHAPE_FILE),
                Shape.of(config).text().getBytes(StandardCharsets.UTF_8));
    }

    /** The target removes its shape when it takes the VM over or ends. */
    public static void remove(RunnerConfig config) {
        try {
            Files.deleteIfExists(config.dataDir().resolve(SHAPE_FILE));
        } catch (IOException e) {
            LOG.fine(() -> "Failed to remove " + SHAPE_FILE + ": " + e);
        }
    }

    /**
     * Why the source must not migrate to the target that waits for this VM, or null when it may: no
     * target waits, or its shape differs from {@code started}.
     */
    public static String refusal(RunnerConfig started) {
        Path dataDir = started.dataDir();
        Path lock = dataDir.resolve(VmClaim.INCOMING_LOCK_FILE);
        if (!targetWaits(lock)) {
            return "no target runner waits for VM "
                    + started.vm().name()
                    + " (none holds "
                    + lock
                    + "): start one with --incoming on storage that shares "
                    + dataDir;
        }
        Shape target;
        try {
            target = Shape.parse(read(dataDir.resolve(SHAPE_FILE)));
        } catch (IOException e) {
            return "failed to read the target's " + dataDir.resolve(SHAPE_FILE) + ": " + e;
        }
        List<String> differ = Shape.of(started).differences(target);
        return differ.isEmpty()
                ? null
                : "the target was started with a configuration that does not fit ("
                        + String.join("; ", differ)
                        + ")";
    }

    /** True when another process holds the lock (a test lock of our own is let go at once). */
    private static boolean targetWaits(Path lock) {
        try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.WRITE)) {
            FileLock held = channel.tryLock();
            if (held != null) {
                held.release();
                return false;
            }
            return true;
        } catch (NoSuchFileException e) {
            return false;
        } catch (OverlappingFileLockException e) {
            return true; // this JVM holds it: a target in the same process (tests)
        } catch (IOException e) {
            LOG.fine(() -> "Failed to test " + lock + ": " + e);
            return false;
        }
    }

    private static String read(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            return new String(in.readNBytes(MAX_BYTES), StandardCharsets.UTF_8);
        }
    }
}
