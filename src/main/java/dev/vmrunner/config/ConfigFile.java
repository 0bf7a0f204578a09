package dev.vmrunner.config;

import dev.vmrunner.files.IoFailure;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/**
 * Reads a configuration file with bounds: only regular files (a FIFO would block the reader, a
 * device never end), and never more than {@link #MAX_BYTES}, so that no file can exhaust the
 * runner's small heap. Both {@code check}/{@code render} and the config watcher read through here.
 */
final class ConfigFile {

    /** Far above any real configuration (they are a few KiB), far below the runner's heap. */
    static final int MAX_BYTES = 1 << 20;

    /** {@link #MAX_BYTES} in words, for messages. */
    static final String LIMIT = "1 MiB";

    private ConfigFile() {}

    /**
     * The file's bytes.
     *
     * @throws NoSuchFileException if it does not exist (also a dangling link)
     * @throws ConfigException if it is not a regular file, too large or unreadable
     */
    static byte[] read(Path file) throws NoSuchFileException, ConfigException {
        try {
            // Follows links, as opening does. A file swapped for a FIFO between this and the open
            // below could still block; the window is microseconds wide.
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            if (!attributes.isRegularFile()) {
                throw refused(
                        file,
                        attributes.isDirectory()
                                ? "it is a directory"
                                : "it is not a regular file (a FIFO, socket or device)");
            }
            if (attributes.size() > MAX_BYTES) {
                throw tooLarge(file, attributes.size(), true);
            }
            try (InputStream in = Files.newInputStream(file)) {
                byte[] content = in.readNBytes(MAX_BYTES + 1);
                if (content.length > MAX_BYTES) { // it grew since we looked
                    throw tooLarge(file, content.length, false);
                }
                return content;
            }
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw refused(file, IoFailure.reason(e, file));
        }
    }

    /** Checks content that did not come through {@link #read}. */
    static void checkSize(byte[] content, Path file) throws ConfigException {
        if (content.length > MAX_BYTES) {
            throw tooLarge(file, content.length, true);
        }
    }

    private static ConfigException tooLarge(Path file, long size, boolean exact) {
        return refused(
                file,
                "the file is "
                        + (exact ? "" : "at least ")
                        + size
                        + " bytes, more than the limit of "
                        + LIMIT);
    }

    static ConfigException refused(Path file, String why) {
        return new ConfigException(
                List.of(
                        "Cannot read configuration file "
                                + (file == null ? "" : file)
                                + ": "
                                + why));
    }
}
