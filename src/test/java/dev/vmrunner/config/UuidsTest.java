package dev.vmrunner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UuidsTest {
    @TempDir Path dir;

    RunnerConfig config(Path dataDir, String... vmLines) throws ConfigException {
        String yaml =
                "\"/Runner\":\n  dataDir: "
                        + dataDir
                        + "\n"
                        + ConfigLoaderTest.vm(vmLines).substring("\"/Runner\":\n".length());
        return ConfigLoader.parse(yaml, ConfigLoaderTest.CONFIG, Map.of());
    }

    @Test
    void generatesOncePersistsAndReuses() throws Exception {
        Path dataDir = dir.resolve("data/vm");
        RunnerConfig config = config(dataDir, "name: vm");
        String uuid = Uuids.ensure(config);
        assertEquals(uuid, UUID.fromString(uuid).toString());
        assertEquals(uuid + "\n", Files.readString(dataDir.resolve("uuid.txt")));
        try (var files = Files.list(dataDir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
        assertEquals(uuid, Uuids.ensure(config));
        assertEquals(uuid, Uuids.ensure(config(dataDir, "name: vm")));
        assertNotEquals(uuid, Uuids.ensure(config(dir.resolve("other"), "name: vm")));
    }

    @Test
    void explicitUuidWinsAndIsNotStored() throws Exception {
        Files.writeString(dir.resolve("uuid.txt"), "11111111-2222-3333-4444-555555555555\n");
        RunnerConfig config =
                config(
                        dir.resolve("fresh"),
                        "name: vm",
                        "uuid: 0f0e0d0c-0b0a-0908-0706-050403020100");
        assertEquals("0f0e0d0c-0b0a-0908-0706-050403020100", Uuids.ensure(config));
        assertFalse(Files.exists(dir.resolve("fresh")));
        assertEquals(
                "0f0e0d0c-0b0a-0908-0706-050403020100",
                Uuids.ensure(
                        config(dir, "name: vm", "uuid: 0f0e0d0c-0b0a-0908-0706-050403020100")));
    }

    @Test
    void readsAStoredUuid() throws Exception {
        Files.writeString(dir.resolve("uuid.txt"), " 11111111-2222-3333-4444-555555555555 \nx\n");
        assertEquals("11111111-2222-3333-4444-555555555555", Uuids.ensure(config(dir, "name: vm")));
    }

    @Test
    void corruptStoredUuidIsAnErrorNotReplaced() throws Exception {
        Files.writeString(dir.resolve("uuid.txt"), "garbage\n");
        IOException e =
                assertThrows(IOException.class, () -> Uuids.ensure(config(dir, "name: vm")));
        assertTrue(
                e.getMessage().startsWith("Failed to read uuid from " + dir.resolve("uuid.txt")),
                e.getMessage());
        assertEquals("garbage\n", Files.readString(dir.resolve("uuid.txt")));
    }

    @Test
    void unwritableLocationReportsTheFile() throws Exception {
        Path blocker = dir.resolve("file");
        Files.writeString(blocker, "not a directory");
        IOException e =
                assertThrows(
                        IOException.class,
                        () -> Uuids.ensure(config(blocker.resolve("vm"), "name: vm")));
        assertTrue(e.getMessage().startsWith("Failed to store uuid in "), e.getMessage());
    }
}
