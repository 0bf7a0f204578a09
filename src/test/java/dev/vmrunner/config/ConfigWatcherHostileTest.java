package dev.vmrunner.config;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watcher against files that cannot be used: it warns, delivers nothing, keeps watching, and
 * never reads more than the size limit.
 */
class ConfigWatcherHostileTest {
    static final Duration SETTLE = Duration.ofMillis(25);
    static final Duration TIMEOUT = Duration.ofSeconds(10);
    static final Duration QUIET = Duration.ofMillis(300);

    @TempDir Path tmp;

    final Changes changes = new Changes();
    final List<LogRecord> records = new CopyOnWriteArrayList<>();
    final Logger logger = Logger.getLogger(ConfigWatcher.class.getName());
    final Handler handler =
            new Handler() {
                @Override
                public void publish(LogRecord record) {
                    records.add(record);
                }

                @Override
                public void flush() {}

                @Override
                public void close() {}
            };
    ConfigWatcher watcher;
    Path file;

    @BeforeEach
    void watch() throws IOException {
        logger.addHandler(handler);
        file = Files.writeString(tmp.resolve("config.yaml"), "a: 0\n");
        watcher = ConfigWatcher.start(file, Files.readAllBytes(file), changes, SETTLE);
    }

    @AfterEach
    void close() {
        watcher.close();
        logger.removeHandler(handler);
    }

    /** Puts {@code content} in place at once, as editors and the kubelet do. */
    void replace(Path content) throws IOException {
        Files.move(
                content, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** A WARNING of the watcher containing {@code text} appears. */
    void expectWarning(String text) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            for (LogRecord r : records) {
                if (Level.WARNING.equals(r.getLevel()) && r.getMessage().contains(text)) {
                    return;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no warning with '" + text + "' in " + messages());
    }

    List<String> messages() {
        return records.stream().map(r -> r.getLevel() + " " + r.getMessage()).toList();
    }

    /** The watcher still works: a good content is delivered. */
    void stillWatching(int n) throws Exception {
        Files.writeString(file, "a: " + n + "\n");
        assertEquals("a: " + n + "\n", changes.next(TIMEOUT).content());
        assertTrue(watcher.thread().isAlive());
    }

    @Test
    void oversizedFileIsAWarningAndIsNotRead() throws Exception {
        Path big = HostileFiles.HUGE_60MB.write(tmp.resolve(".big"));
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getThreadAllocatedBytes(watcher.thread().getId());
        replace(big);
        expectWarning("the file is 62914500 bytes, more than the limit of 1 MiB");
        long allocated = threads.getThreadAllocatedBytes(watcher.thread().getId()) - before;
        assertTrue(allocated < 4 << 20, "the watcher allocated " + allocated + " bytes");
        changes.assertNone(QUIET);
        stillWatching(1);
    }

    @Test
    void deletedFileIsAWarning() throws Exception {
        Files.delete(file);
        expectWarning("Config file " + file + " is missing (deleted or being replaced)");
        changes.assertNone(QUIET);
        stillWatching(1);
    }

    @Test
    void directoryInPlaceIsAWarning() throws Exception {
        Files.delete(file);
        Files.createDirectory(file);
        expectWarning("it is a directory");
        changes.assertNone(QUIET);
        Files.delete(file);
        stillWatching(1);
    }

    @Test
    void fifoInPlaceNeverBlocksTheWatcher() throws Exception {
        Path fifo = tmp.resolve(".fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertTrue(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0);
        replace(fifo);
        expectWarning("it is not a regular file (a FIFO, socket or device)");
        Files.delete(file);
        stillWatching(1);
    }

    @Test
    void theSameProblemIsWarnedOnce() throws Exception {
        Files.delete(file);
        expectWarning("is missing");
        Files.writeString(tmp.resolve("other"), "x"); // an event in the directory, not the file
        Path elsewhere = Files.writeString(tmp.resolve(".new"), "a: 1\n");
        Files.move(elsewhere, tmp.resolve("config.yaml~"));
        // The file back: its change comes after the watcher has handled the events above.
        stillWatching(2);
        long warnings =
                records.stream()
                        .filter(r -> Level.WARNING.equals(r.getLevel()))
                        .filter(r -> r.getMessage().contains("is missing"))
                        .count();
        assertEquals(1, warnings, messages().toString());
    }

    @Test
    void smallHostileContentIsDeliveredForTheConsumerToRefuse() throws Exception {
        replace(HostileFiles.ALIAS_BOMB.write(tmp.resolve(".bomb")));
        assertEquals(HostileFiles.ALIAS_BOMB.text(), changes.next(TIMEOUT).content());
        stillWatching(1);
    }

    @Test
    void errorInTheCallbackDoesNotStopTheWatcher() throws Exception {
        watcher.close();
        watcher =
                ConfigWatcher.start(
                        file,
                        Files.readAllBytes(file),
                        content -> {
                            changes.accept(content);
                            if (new String(content, UTF_8).contains("boom")) {
                                throw new StackOverflowError("handler recursed");
                            }
                        },
                        SETTLE);
        Files.writeString(file, "boom: 1\n");
        assertEquals("boom: 1\n", changes.next(TIMEOUT).content());
        expectWarning("Config change handler failed");
        stillWatching(1);
    }
}
