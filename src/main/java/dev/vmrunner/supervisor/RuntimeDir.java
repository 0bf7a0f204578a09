package dev.vmrunner.supervisor;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The VM's runtime directory (sockets, pid files): readable by the user only, refused while another
 * runner uses it, and removed on exit. A directory that existed before is not removed as a whole
 * (it may be something the user made); only the runner's files in it are.
 */
final class RuntimeDir {

    private static final Logger LOG = Logger.getLogger("vmrunner");
    private static final String PID_FILE = "runner.pid";

    private final Path dir;
    private boolean created;

    RuntimeDir(Path dir) {
        this.dir = dir;
    }

    Path path() {
        return dir;
    }

    /** Creates the directory and claims it for this runner. */
    void claim() throws IOException {
        Files.createDirectories(dir.toAbsolutePath().getParent());
        try {
            Files.createDirectory(
                    dir,
                    PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rwx------")));
            created = true;
        } catch (FileAlreadyExistsException e) {
            Optional<Long> other = otherRunner();
            if (other.isPresent()) {
                throw new IOException(
                        "another vmrunner (pid "
                                + other.get()
                                + ") is running this VM with runtime directory "
                                + dir);
            }
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            removeLeftovers();
        }
        Files.writeString(dir.resolve(PID_FILE), ProcessHandle.current().pid() + "\n");
    }

    /** Removes what the runner put here, and the directory if the runner made it. */
    void remove() {
        try {
            if (created) {
                deleteTree(dir);
            } else {
                removeLeftovers();
            }
        } catch (IOException e) {
            LOG.warning(() -> "Failed to remove runtime directory " + dir + ": " + e.getMessage());
        }
    }

    private Optional<Long> otherRunner() {
        try {
            long pid = Long.parseLong(Files.readString(dir.resolve(PID_FILE)).strip());
            return ProcessHandle.of(pid)
                    .filter(ProcessHandle::isAlive)
                    .filter(p -> p.pid() != ProcessHandle.current().pid())
                    .filter(p -> p.info().command().map(c -> c.contains("java")).orElse(true))
                    .map(ProcessHandle::pid);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private void removeLeftovers() throws IOException {
        List<String> ours =
                List.of("monitor.sock", "swtpm-sock", "org.qemu.guest_agent.0", "cloud-init.iso");
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (ours.contains(name) || name.endsWith(".pid")) {
                    Files.deleteIfExists(entry);
                }
            }
        }
    }

    private static void deleteTree(Path path) throws IOException {
        if (Files.isDirectory(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
                for (Path entry : entries) {
                    deleteTree(entry);
                }
            }
        }
        Files.deleteIfExists(path);
    }
}
