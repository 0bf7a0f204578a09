package dev.vmrunner.files;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The path, what the runner was doing and the system's reason; never a Java class name. */
class IoFailureTest {
    private static final Path PID = Path.of("/x/runner.pid");

    @Test
    void theSystemsReasonInWords() {
        assertEquals(
                "Failed to write the pid file /x/runner.pid: no space left on device",
                IoFailure.message(
                        "write the pid file", PID, new IOException("No space left on device")));
        Path lock = Path.of("/x/runner.lock");
        assertEquals(
                "Failed to open the lock file /x/runner.lock: read-only file system",
                IoFailure.message(
                        "open the lock file",
                        lock,
                        new FileSystemException(lock.toString(), null, "Read-only file system")));
        assertEquals(
                "permission denied",
                IoFailure.reason(new AccessDeniedException("/x"), Path.of("/x")));
    }

    @Test
    void anotherFileThanTheOneNamedIsShown() {
        assertEquals(
                "no such file or directory (/x)",
                IoFailure.reason(new NoSuchFileException("/x"), PID));
        assertEquals("an I/O error", IoFailure.reason(new IOException(), PID));
    }
}
