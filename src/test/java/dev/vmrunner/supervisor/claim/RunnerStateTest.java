package dev.vmrunner.supervisor.claim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.qmp.VcpuSlot;
import java.nio.file.Files;
import java.nio.file.Path;
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
