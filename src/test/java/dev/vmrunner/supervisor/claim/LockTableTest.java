package dev.vmrunner.supervisor.claim;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both kinds of lock on one file, as the kernel lists them, with real locks. */
class LockTableTest {

    @TempDir Path dir;

    @Test
    void linesAreReadByKindAndFileAndWaitersAreSkipped() {
        LockTable table =
                new LockTable(
                        List.of(
                                "1: POSIX  ADVISORY  WRITE 4242 fe:00:77 0 EOF",
                                "2: FLOCK  ADVISORY  WRITE 99 fe:00:78 0 EOF",
                                "2: -> FLOCK  ADVISORY  WRITE 100 fe:00:79 0 EOF",
                                "damaged"),
                        List.of("1: FLOCK  ADVISORY  WRITE 1 fe:00:80 0 EOF"));
        assertTrue(table.foreignFlockOn("fe:00:78"));
        assertFalse(table.foreignFlockOn("fe:00:79"), "a waiter holds nothing");
        assertFalse(table.foreignFlockOn("fe:00:77"), "a POSIX lock is not an flock");
        assertFalse(table.foreignFlockOn(null));
        assertTrue(table.holdsFlockOn("fe:00:80"));
        assertFalse(table.holdsFlockOn("fe:00:78"));
    }

    @Test
    void anFlockOfAnotherProcessIsSeenBesideOurPosixLock() throws Exception {
        Path file = dir.resolve("runner.lock");
        Files.createFile(file);
        String id = LockTable.fileId(file);
        assertNotNull(id);
        try (FileChannel channel =
                FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            assertNotNull(lock);
            assertTrue(
                    Files.readAllLines(Path.of("/proc/locks")).stream()
                            .anyMatch(l -> l.contains(" " + id + " ")),
                    "the kernel names the file as fileId does: " + id);
            assertFalse(LockTable.now().foreignFlockOn(id));
            // The launcher's kind of lock, taken by flock(1) beside ours: Linux lets both be.
            // As bin/vmrunner takes it: on a descriptor that outlives flock(1) itself.
            Process holder =
                    new ProcessBuilder(
                                    "sh",
                                    "-c",
                                    "exec 9<> \"$1\" && flock -n 9 && exec sleep 30",
                                    "sh",
                                    file.toString())
                            .start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!LockTable.now().foreignFlockOn(id) && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertTrue(LockTable.now().foreignFlockOn(id));
                assertFalse(LockTable.now().holdsFlockOn(id));
            } finally {
                holder.destroyForcibly().waitFor();
            }
            assertFalse(LockTable.now().foreignFlockOn(id));
        }
    }
}
