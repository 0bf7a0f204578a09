package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The supervisor's unit tests wait on the loop (a barrier, {@link FakeClock#idle}) or on a
 * condition another thread signals, never on real time: a sleep, however short, turns into a
 * failure on a busy machine or into an assertion that cannot fail. This keeps one from coming back,
 * polling loops included.
 */
class NoSleepTest {

    /** Thread.sleep, TimeUnit.X.sleep, LockSupport.parkNanos/parkUntil, however spelled. */
    private static final Pattern SLEEP = Pattern.compile("\\bsleep\\s*\\(|\\bpark(Nanos|Until)\\b");

    private static final Path FOLDER = Path.of("src/test/java/dev/vmrunner/supervisor");

    @Test
    void noSupervisorUnitTestSleeps() throws IOException {
        List<String> found = new ArrayList<>();
        List<Path> sources;
        try (Stream<Path> files = Files.walk(FOLDER)) {
            sources = files.filter(f -> f.toString().endsWith(".java")).toList();
        }
        assertFalse(sources.isEmpty(), "no sources under " + FOLDER.toAbsolutePath());
        for (Path source : sources) {
            if (source.getFileName().toString().equals("NoSleepTest.java")) {
                continue;
            }
            List<String> lines = Files.readAllLines(source);
            for (int i = 0; i < lines.size(); i++) {
                if (SLEEP.matcher(lines.get(i)).find()) {
                    found.add(source + ":" + (i + 1) + ": " + lines.get(i).strip());
                }
            }
        }
        assertEquals(List.of(), found, "the supervisor's unit tests must not sleep");
    }

    @Test
    void thePatternFindsTheUsualSpellings() {
        for (String line :
                List.of(
                        "Thread.sleep(30);",
                        "TimeUnit.MILLISECONDS.sleep (5);",
                        "LockSupport.parkNanos(1000);",
                        "parkUntil(deadline)")) {
            assertTrue(SLEEP.matcher(line).find(), line);
        }
    }
}
