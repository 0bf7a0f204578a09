package dev.vmrunner.files;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Messages for failed file operations that a user can act on: "Failed to write the pid file
 * /x/runner.pid: no space left on device". The path, what the runner was doing and the system's
 * reason; never a Java class name, and the path once.
 */
public final class IoFailure {
    private IoFailure() {}

    /** {@code Failed to <doing> <path>: <reason>}. */
    public static String message(String doing, Path path, IOException e) {
        return "Failed to " + doing + " " + path + ": " + reason(e, path);
    }

    /**
     * The system's reason ({@code no space left on device}, {@code read-only file system}), with
     * the file it concerns when that is not {@code about}.
     */
    public static String reason(IOException e, Path about) {
        String reason;
        if (e instanceof NoSuchFileException) {
            reason = "no such file or directory";
        } else if (e instanceof AccessDeniedException) {
            reason = "permission denied";
        } else if (e instanceof FileAlreadyExistsException) {
            reason = "it already exists";
        } else if (e instanceof NotDirectoryException) {
            reason = "not a directory";
        } else if (e instanceof DirectoryNotEmptyException) {
            reason = "directory not empty";
        } else if (e instanceof FileSystemException fs && fs.getReason() != null) {
            reason = lowerFirst(fs.getReason());
        } else if (!(e instanceof FileSystemException) && e.getMessage() != null) {
            reason = lowerFirst(e.getMessage());
        } else {
            reason = "an I/O error";
        }
        if (e instanceof FileSystemException fs
                && fs.getFile() != null
                && (about == null || !Path.of(fs.getFile()).equals(about))) {
            reason += " (" + fs.getFile() + ")";
        }
        return reason;
    }

    /** "No space left on device" reads "no space left on device" after a colon; "IO" stays. */
    private static String lowerFirst(String text) {
        if (text.length() > 1
                && Character.isUpperCase(text.charAt(0))
                && Character.isLowerCase(text.charAt(1))) {
            return Character.toLowerCase(text.charAt(0)) + text.substring(1);
        }
        return text;
    }
}
