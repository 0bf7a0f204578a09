package dev.vmrunner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replaced file (rename over it, a ConfigMap update) is read at once, without the settle pause;
 * what comes while a round is in flight is one more read, of the last content. The settle here is a
 * minute, far longer than the timeouts, so a callback within them shows that no settle was waited;
 * no assertion depends on how fast the machine is.
 */
class ConfigWatcherPromptTest {
    static final Duration NEVER = Duration.ofMinutes(1);
    static final Duration TIMEOUT = Duration.ofSeconds(10);
    static final Duration QUIET = Duration.ofMillis(500);

    @TempDir Path tmp;
    final Changes changes = new Changes();
    final List<ConfigWatcher> watchers = new ArrayList<>();
    int temps;

    @AfterEach
    void closeWatchers() {
        watchers.forEach(ConfigWatcher::close);
    }

    void watch(Path file, java.util.function.Consumer<byte[]> consumer) throws IOException {
        watchers.add(ConfigWatcher.start(file, Files.readAllBytes(file), consumer, NEVER));
    }

    void replace(Path file, String content) throws IOException {
        Path temp = Files.writeString(tmp.resolve(".config.yaml.tmp" + temps++), content);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void firstReplacementIsReadWithoutSettling() throws Exception {
        Path file = Files.writeString(tmp.resolve("config.yaml"), "a: 1\n");
        watch(file, changes);
        replace(file, "a: 2\n");
        assertEquals("a: 2\n", changes.next(TIMEOUT).content());
        replace(file, "a: 3\n"); // and the next ones too
        assertEquals("a: 3\n", changes.next(TIMEOUT).content());
        changes.assertNone(QUIET);
    }

    @Test
    void firstConfigMapUpdateIsReadWithoutSettling() throws Exception {
        Path volume = tmp.resolve("vmrunner");
        ConfigMapVolume.publish(volume, "config.yaml", "a: 1\n");
        watch(volume.resolve("config.yaml"), changes);
        ConfigMapVolume.publish(volume, "config.yaml", "a: 2\n");
        assertEquals("a: 2\n", changes.next(TIMEOUT).content());
    }

    @Test
    void burstDuringACallbackIsOneMoreCallbackWithTheLastContent() throws Exception {
        Path file = Files.writeString(tmp.resolve("config.yaml"), "n: 0\n");
        Blocking blocking = new Blocking();
        watch(file, blocking);
        replace(file, "n: 1\n");
        assertTrue(blocking.entered.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        for (int i = 2; i <= 20; i++) {
            replace(file, "n: " + i + "\n"); // all queued while the first callback runs
        }
        blocking.release.countDown();
        assertEquals("n: 1\n", changes.next(TIMEOUT).content());
        assertEquals("n: 20\n", changes.next(TIMEOUT).content());
        changes.assertNone(QUIET);
    }

    @Test
    void lastWriteWinsWhenTheFileIsReplacedDuringARead() throws Exception {
        Path file = Files.writeString(tmp.resolve("config.yaml"), "v: 0\n");
        Blocking blocking = new Blocking();
        watch(file, blocking);
        replace(file, "v: 1\n");
        assertTrue(blocking.entered.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        replace(file, "v: 2\n");
        replace(file, "v: 1\n"); // back to what is being delivered: still the last write
        replace(file, "v: 3\n");
        blocking.release.countDown();
        assertEquals("v: 1\n", changes.next(TIMEOUT).content());
        assertEquals("v: 3\n", changes.next(TIMEOUT).content());
        changes.assertNone(QUIET);
        assertEquals("v: 3\n", Files.readString(file));
    }

    /** Records into {@link #changes}; the first callback waits until released. */
    final class Blocking implements java.util.function.Consumer<byte[]> {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public void accept(byte[] content) {
            changes.accept(content);
            entered.countDown();
            ConfigWatcherTest.awaitQuietly(release);
        }
    }
}
