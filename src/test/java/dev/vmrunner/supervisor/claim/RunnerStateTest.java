package dev.vmrunner.supervisor.claim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.qmp.VcpuSlot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunnerStateTest {

    @TempDir Path dir;

    @Test
    void whatIsWrittenIsRead() {
        RunnerState state =
                new RunnerState(
                        "started",
                        "applied",
                        Set.of(new VcpuSlot(1, null, 0, 0), new VcpuSlot(2, 0, 0, 0)));
        state.write(dir);
        assertEquals(Optional.of(state), RunnerState.read(dir));
    }

    @Test
    void aStopInFlightIsWrittenAndRead() {
        RunnerState state =
                new RunnerState("started", "applied", Set.of())
                        .withStopping(
                                new RunnerState.Stopping(1_700_000_000_000L, 1_700_000_040_000L));
        state.write(dir);
        assertEquals(Optional.of(state), RunnerState.read(dir));
        assertEquals(
                Duration.ofSeconds(40), RunnerState.read(dir).orElseThrow().stopping().timeout());
    }

    /** A file of an earlier runner, or of one no stop was asked of: no stop in flight. */
    @Test
    void aFileWithoutTheStopMeansNoStopInFlight() throws Exception {
        Files.writeString(
                dir.resolve(RuntimeFiles.STATE),
                "{\"startedConfig\":\"a\",\"appliedConfig\":\"b\",\"emptiedSlots\":[]}");
        assertEquals(Optional.of(new RunnerState("a", "b", Set.of())), RunnerState.read(dir));
        assertNull(RunnerState.read(dir).orElseThrow().stopping());
    }

    @Test
    void theWaitIsMeasuredFromTheRequest() {
        RunnerState.Stopping stop = RunnerState.Stopping.asked(1_000, Duration.ofSeconds(40));
        assertEquals(new RunnerState.Stopping(1_000, 41_000), stop);
        assertEquals(Duration.ofSeconds(10), stop.elapsed(11_000));
        assertEquals(Duration.ZERO, stop.elapsed(500), "a clock set back");
        assertEquals(
                new RunnerState.Stopping(1_000, 21_000), stop.withTimeout(Duration.ofSeconds(20)));
    }

    /**
     * A runner upgraded while QEMU runs adopts it from the file the previous version wrote, whose
     * slots are strings of QEMU's props as JSON text (node-id included).
     */
    @Test
    void theFormOfRunnersUpTo010IsRead() throws Exception {
        Files.writeString(
                dir.resolve(RuntimeFiles.STATE),
                "{\"startedConfig\":\"a\",\"appliedConfig\":\"b\",\"emptiedSlots\":["
                        + "\"{\\\"node-id\\\":0,\\\"socket-id\\\":1,\\\"core-id\\\":0,"
                        + "\\\"thread-id\\\":0}\","
                        + "\"{\\\"socket-id\\\":2,\\\"core-id\\\":0,\\\"thread-id\\\":0}\"]}");
        assertEquals(
                Optional.of(
                        new RunnerState(
                                "a",
                                "b",
                                Set.of(new VcpuSlot(1, null, 0, 0), new VcpuSlot(2, null, 0, 0)))),
                RunnerState.read(dir));
    }

    @Test
    void aSlotThatIsNotOneMakesTheFileUnreadable() throws Exception {
        Files.writeString(
                dir.resolve(RuntimeFiles.STATE),
                "{\"startedConfig\":\"a\",\"appliedConfig\":\"b\",\"emptiedSlots\":[[1]]}");
        assertEquals(Optional.empty(), RunnerState.read(dir));
    }
}
