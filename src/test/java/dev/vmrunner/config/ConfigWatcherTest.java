package dev.vmrunner.config;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The config watcher on real files: every way a file is replaced, bursts, close, latency. */
class ConfigWatcherTest {
    static final Duration SETTLE = Duration.ofMillis(25);
    static final Duration TIMEOUT = Duration.ofSeconds(10);
    static final Duration QUIET = Duration.ofMillis(500);

    @TempDir Path tmp;

    final Changes changes = new Changes();
    final List<ConfigWatcher> watchers = new ArrayList<>();

    @AfterEach
    void closeWatchers() {
        watchers.forEach(ConfigWatcher::close);
    }

    ConfigWatcher watch(Path file) throws IOException {
        return watch(file, Files.readAllBytes(file));
    }

    ConfigWatcher watch(Path file, byte[] initial) throws IOException {
        ConfigWatcher watcher = ConfigWatcher.start(file, initial, changes, SETTLE);
        watchers.add(watcher);
        return watcher;
    }

    Path config(String content) throws IOException {
        return Files.writeString(tmp.resolve("config.yaml"), content);
    }

    /** Exactly one callback, with {@code expected}. */
    void expectOne(String expected) throws InterruptedException {
        assertEquals(expected, changes.next(TIMEOUT).content());
        changes.assertNone(QUIET);
    }

    @Test
    void inPlaceWriteGivesOneCallback() throws Exception {
        Path file = config("a: 1\n");
        watch(file);
        Files.writeString(file, "a: 2\n"); // O_TRUNC, then write
        expectOne("a: 2\n");
    }

    @Test
    void inPlaceWriteInSeveralPartsGivesOneCallback() throws Exception {
        Path file = config("a: 1\n");
        watch(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(0);
            for (String part : List.of("a: 2\n", "b: 3\n", "c: 4\n")) {
                channel.write(ByteBuffer.wrap(part.getBytes(UTF_8)));
                Thread.sleep(2); // writes a few ms apart, well within SETTLE
            }
        }
        expectOne("a: 2\nb: 3\nc: 4\n");
    }

    @Test
    void renameOverGivesOneCallback() throws Exception {
        Path file = config("a: 1\n");
        watch(file);
        Path temp = Files.writeString(tmp.resolve(".config.yaml.tmp4711"), "a: 2\n");
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        expectOne("a: 2\n");
    }

    @Test
    void vimStyleRenameAwayAndWriteNewGivesOneCallback() throws Exception {
        Path file = config("a: 1\n");
        watch(file);
        Path backup = tmp.resolve("config.yaml~");
        Files.move(file, backup);
        Files.writeString(file, "a: 2\n");
        Files.delete(backup);
        expectOne("a: 2\n");
    }

    @Test
    void configMapUpdateGivesOneCallbackEachTime() throws Exception {
        Path volume = tmp.resolve("vmrunner");
        ConfigMapVolume.publish(volume, "config.yaml", "a: 1\n");
        Path file = volume.resolve("config.yaml");
        watch(file);
        ConfigMapVolume.publish(volume, "config.yaml", "a: 2\n");
        expectOne("a: 2\n");
        // The second update checks that the watcher followed ..data to the new directory.
        ConfigMapVolume.publish(volume, "config.yaml", "a: 3\n");
        expectOne("a: 3\n");
    }

    @Test
    void configMapVolumeIsWatchedAtDataLinkAndTimestampDirectory() throws Exception {
        Path volume = tmp.resolve("vmrunner");
        ConfigMapVolume.publish(volume, "config.yaml", "a: 1\n");
        Path real = volume.toRealPath();
        Path stamped = real.resolve(Files.readSymbolicLink(volume.resolve("..data")));
        assertEquals(
                Map.of(real, Set.of("config.yaml", "..data"), stamped, Set.of("config.yaml")),
                WatchTargets.of(volume.resolve("config.yaml")));
    }

    @Test
    void configMapUpdateWithSameContentGivesNoCallback() throws Exception {
        Path volume = tmp.resolve("vmrunner");
        ConfigMapVolume.publish(volume, "config.yaml", "a: 1\n");
        watch(volume.resolve("config.yaml"));
        ConfigMapVolume.publish(volume, "config.yaml", "a: 1\n");
        changes.assertNone(QUIET);
    }

    @Test
    void burstOfWritesDeliversTheLastContent() throws Exception {
        Path file = config("a: 0\n");
        watch(file);
        for (int i = 1; i <= 5; i++) {
            Files.writeString(file, "a: " + i + "\n");
        }
        List<String> seen = untilContent("a: 5\n");
        changes.assertNone(QUIET);
        assertTrue(seen.size() <= 2, "at most a couple of callbacks: " + seen);
    }

    @Test
    void continuousWritesEndWithTheFinalContent() throws Exception {
        Path file = config("n: 0\n");
        watch(file);
        for (int i = 1; i <= 60; i++) {
            Files.writeString(file, "n: " + i + "\n");
            Thread.sleep(3); // a stream of writes that lasts longer than the settle bound
        }
        List<String> seen = untilContent("n: 60\n");
        changes.assertNone(QUIET);
        assertEquals(seen.size(), seen.stream().distinct().count(), "no repeats: " + seen);
    }

    @Test
    void touchGivesNoCallback() throws Exception {
        Path file = config("a: 1\n");
        watch(file);
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(60)));
        changes.assertNone(QUIET);
        Files.writeString(file, "a: 2\n"); // still watching
        expectOne("a: 2\n");
    }

    @Test
    void identicalRewriteGivesNoCallback() throws Exception {
        Path file = config("a: 1\n");
        watch(file);
        Files.writeString(file, "a: 1\n");
        Path temp = Files.writeString(tmp.resolve("config.yaml.new"), "a: 1\n");
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        changes.assertNone(QUIET);
        Files.writeString(file, "a: 2\n");
        expectOne("a: 2\n");
    }

    @Test
    void symlinkToFileInAnotherDirectoryIsFollowed() throws Exception {
        Path other = Files.createDirectory(tmp.resolve("other"));
        Path real = Files.writeString(other.resolve("real.yaml"), "a: 1\n");
        Path conf = Files.createDirectory(tmp.resolve("conf"));
        Path file = Files.createSymbolicLink(conf.resolve("config.yaml"), real);
        watch(file);
        Files.writeString(real, "a: 2\n"); // in place, in the other directory
        expectOne("a: 2\n");

        // Pointing the link elsewhere is a change, and the new target's directory is watched.
        Path third = Files.createDirectory(tmp.resolve("third"));
        Path next = Files.writeString(third.resolve("next.yaml"), "a: 3\n");
        Path link = Files.createSymbolicLink(conf.resolve(".config.yaml.new"), next);
        Files.move(link, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        expectOne("a: 3\n");
        Files.writeString(next, "a: 4\n");
        expectOne("a: 4\n");
        Files.writeString(real, "a: 5\n"); // no longer the config
        changes.assertNone(QUIET);
    }

    @Test
    void relativeSymlinkThroughLinkedDirectoryIsFollowed() throws Exception {
        Path v1 = Files.createDirectories(tmp.resolve("releases/v1"));
        Files.writeString(v1.resolve("config.yaml"), "a: 1\n");
        Files.createSymbolicLink(tmp.resolve("current"), Path.of("releases/v1"));
        Path file =
                Files.createSymbolicLink(
                        tmp.resolve("config.yaml"), Path.of("current/config.yaml"));
        watch(file);
        Files.writeString(v1.resolve("config.yaml"), "a: 2\n");
        expectOne("a: 2\n");
    }

    @Test
    void deletedThenRecreatedGivesOneCallback() throws Exception {
        Path file = config("a: 1\n");
        watch(file);
        CountDownLatch missing = new CountDownLatch(1);
        Handler seen =
                new Handler() {
                    @Override
                    public void publish(LogRecord record) {
                        if (record.getMessage().contains(" is missing ")) {
                            missing.countDown();
                        }
                    }

                    @Override
                    public void flush() {}

                    @Override
                    public void close() {}
                };
        Logger logger = Logger.getLogger(ConfigWatcher.class.getName());
        logger.addHandler(seen);
        try {
            Files.delete(file);
            assertTrue(missing.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS), "missing seen");
        } finally {
            logger.removeHandler(seen);
        }
        Files.writeString(file, "a: 2\n");
        expectOne("a: 2\n");
    }

    @Test
    void missingFileAtStartIsReportedWhenCreated() throws Exception {
        Path file = tmp.resolve("config.yaml");
        watch(file, null);
        changes.assertNone(Duration.ofMillis(100));
        Files.writeString(file, "a: 1\n");
        expectOne("a: 1\n");
    }

    @Test
    void changeBeforeStartIsDelivered() throws Exception {
        Path file = config("a: 2\n");
        watch(file, "a: 1\n".getBytes(UTF_8)); // the caller read an older content
        expectOne("a: 2\n");
    }

    @Test
    void callbacksComeFromTheWatcherThreadInOrder() throws Exception {
        Path file = config("a: 0\n");
        ConfigWatcher watcher = watch(file);
        for (int i = 1; i <= 3; i++) {
            Files.writeString(file, "a: " + i + "\n");
            Changes.Change change = changes.next(TIMEOUT);
            assertEquals("a: " + i + "\n", change.content());
            assertSame(watcher.thread(), change.thread());
        }
        assertTrue(watcher.thread().isDaemon());
    }

    @Test
    void failingCallbackDoesNotStopTheWatcher() throws Exception {
        Path file = config("a: 1\n");
        ConfigWatcher watcher =
                ConfigWatcher.start(
                        file,
                        Files.readAllBytes(file),
                        content -> {
                            changes.accept(content);
                            throw new IllegalStateException("handler bug");
                        },
                        SETTLE);
        watchers.add(watcher);
        Files.writeString(file, "a: 2\n");
        expectOne("a: 2\n");
        Files.writeString(file, "a: 3\n");
        expectOne("a: 3\n");
    }

    @Test
    void overflowMakesItReadAgain() throws Exception {
        Path file = config("a: 1\n");
        CountDownLatch release = new CountDownLatch(1);
        ConfigWatcher watcher =
                ConfigWatcher.start(
                        file,
                        Files.readAllBytes(file),
                        content -> {
                            changes.accept(content);
                            awaitQuietly(release);
                        },
                        SETTLE);
        watchers.add(watcher);
        Files.writeString(file, "a: 2\n");
        assertEquals("a: 2\n", changes.next(TIMEOUT).content());
        // While the handler blocks, more events than a WatchKey holds (512 in the JDK) queue
        // up; the JDK then replaces the rest, including the change of config.yaml, by OVERFLOW.
        for (int i = 0; i < 600; i++) {
            Files.createFile(tmp.resolve("junk" + i));
        }
        Files.writeString(file, "a: 3\n");
        release.countDown();
        expectOne("a: 3\n");
    }

    @Test
    void closeStopsTheThread() throws Exception {
        Path file = config("a: 1\n");
        ConfigWatcher watcher = watch(file);
        Thread thread = watcher.thread();
        assertTrue(thread.isAlive());
        watcher.close();
        assertFalse(thread.isAlive());
        Files.writeString(file, "a: 2\n");
        changes.assertNone(QUIET);
        watcher.close(); // harmless
    }

    @Test
    void closeFromTheCallbackStopsTheThread() throws Exception {
        Path file = config("a: 1\n");
        ConfigWatcher[] self = new ConfigWatcher[1];
        ConfigWatcher watcher =
                ConfigWatcher.start(
                        file,
                        Files.readAllBytes(file),
                        content -> {
                            changes.accept(content);
                            self[0].close();
                        },
                        SETTLE);
        self[0] = watcher;
        watchers.add(watcher);
        Files.writeString(file, "a: 2\n");
        assertEquals("a: 2\n", changes.next(TIMEOUT).content());
        watcher.thread().join(TIMEOUT.toMillis());
        assertFalse(watcher.thread().isAlive());
    }

    @Test
    void idleWatcherBlocksWithoutUsingCpu() throws Exception {
        Path file = config("a: 1\n");
        Thread thread = watch(file).thread();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (thread.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(Thread.State.WAITING, thread.getState(), "blocked in WatchService.take()");
        ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        long before = bean.getThreadCpuTime(thread.getId());
        Thread.sleep(500);
        long used = bean.getThreadCpuTime(thread.getId()) - before;
        assertTrue(used < TimeUnit.MILLISECONDS.toNanos(5), "CPU while idle: " + used + " ns");
    }

    @Test
    void missingDirectoryFailsAtStart() {
        Path file = tmp.resolve("absent/config.yaml");
        IOException e =
                assertThrows(IOException.class, () -> watch(file, "a: 1\n".getBytes(UTF_8)));
        assertTrue(
                e.getMessage()
                        .startsWith("Failed to watch config directory " + tmp.resolve("absent")),
                e.getMessage());
    }

    @Test
    void fileAsDirectoryFailsAtStart() throws Exception {
        Path notADirectory = Files.writeString(tmp.resolve("plain"), "x");
        IOException e =
                assertThrows(
                        IOException.class,
                        () ->
                                watch(
                                        notADirectory.resolve("config.yaml"),
                                        "a: 1\n".getBytes(UTF_8)));
        assertTrue(e.getMessage().startsWith("Failed to watch config directory"), e.getMessage());
    }

    @Test
    void medianLatencyFromWriteToCallback() throws Exception {
        Path file = config("n: 0\n");
        watch(file);
        List<Long> micros = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            long start = System.nanoTime();
            Files.writeString(file, "n: " + i + "\n");
            Changes.Change change = changes.next(TIMEOUT);
            assertEquals("n: " + i + "\n", change.content());
            micros.add((change.nanos() - start) / 1_000);
            Thread.sleep(20);
        }
        Collections.sort(micros);
        long median = (micros.get(9) + micros.get(10)) / 2;
        System.out.printf(
                "ConfigWatcher latency write -> callback, settle %d ms, 20 writes:"
                        + " median %.1f ms, min %.1f ms, max %.1f ms%n",
                SETTLE.toMillis(),
                median / 1000.0,
                micros.get(0) / 1000.0,
                micros.get(19) / 1000.0);
    }

    /** Callbacks until one has {@code expected}; fails on timeout. */
    List<String> untilContent(String expected) throws InterruptedException {
        List<String> seen = new ArrayList<>();
        do {
            seen.add(changes.next(TIMEOUT).content());
        } while (!seen.get(seen.size() - 1).equals(expected));
        return seen;
    }

    static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
