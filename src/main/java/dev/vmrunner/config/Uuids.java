package dev.vmrunner.config;

import dev.vmrunner.files.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/** The VM's machine uuid, stable across starts. */
public final class Uuids {
    /** The file in {@code dataDir} that holds a generated uuid (same name as upstream). */
    public static final String FILE_NAME = "uuid.txt";

    private Uuids() {}

    /**
     * Returns {@code vm.uuid} if set, else the uuid stored in {@code dataDir/uuid.txt}, else
     * generates one and stores it atomically (temporary file in the same directory, fsync, rename;
     * the data directory is created if missing).
     *
     * @throws IOException if the stored file cannot be read or does not hold a uuid (a machine's
     *     identity is not replaced silently), or the new one cannot be stored
     */
    public static String ensure(RunnerConfig config) throws IOException {
        if (config.vm().uuid() != null) {
            return config.vm().uuid();
        }
        Path file = config.dataDir().resolve(FILE_NAME);
        if (Files.exists(file)) {
            return read(file);
        }
        String uuid = UUID.randomUUID().toString();
        store(file, uuid);
        return uuid;
    }

    private static String read(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("Failed to read uuid from " + file + ": " + e.getMessage(), e);
        }
        String uuid = lines.isEmpty() ? "" : lines.get(0).strip();
        if (Check.uuid(uuid) != null) {
            throw new IOException(
                    "Failed to read uuid from "
                            + file
                            + ": '"
                            + uuid
                            + "' is not a uuid (fix or remove the file)");
        }
        return uuid;
    }

    private static void store(Path file, String uuid) throws IOException {
        try {
            Files.createDirectories(file.getParent());
            AtomicFiles.write(file, (uuid + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IOException("Failed to store uuid in " + file + ": " + e.getMessage(), e);
        }
    }
}
