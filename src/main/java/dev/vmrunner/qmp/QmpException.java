package dev.vmrunner.qmp;

import java.nio.file.Path;

/** The one failure type of this package; {@link #kind()} says what went wrong. */
public final class QmpException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What failed. */
    public enum Kind {
        /** QEMU answered with an {@code "error"} object; see {@link #errorClass()}. */
        ERROR_REPLY,
        /** No reply arrived within the command's timeout; the connection stays usable. */
        TIMEOUT,
        /** The connection closed (or was closed) before the reply arrived. */
        DISCONNECTED,
        /** QEMU sent something that is not QMP as we know it. */
        PROTOCOL,
        /** Nothing accepted the connection before the deadline. */
        CONNECT
    }

    private final Kind kind;
    private final String errorClass;

    public QmpException(Kind kind, String message, Throwable cause) {
        this(kind, message, null, cause);
    }

    private QmpException(Kind kind, String message, String errorClass, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.errorClass = errorClass;
    }

    /** An {@code {"error": {"class": ..., "desc": ...}}} reply to {@code command}. */
    public static QmpException errorReply(String command, String errorClass, String desc) {
        return new QmpException(
                Kind.ERROR_REPLY,
                "Failed to run QMP command " + command + ": " + errorClass + ": " + desc,
                errorClass,
                null);
    }

    /**
     * {@code command} failed because the connection to {@code socket} closed: by us if {@code
     * cause} is null.
     */
    static QmpException disconnected(String command, Path socket, Throwable cause) {
        return new QmpException(
                Kind.DISCONNECTED,
                "Failed to run QMP command " + command + ": " + lost(socket, cause),
                cause);
    }

    /** How the connection to {@code socket} ended, for messages. */
    static String lost(Path socket, Throwable cause) {
        if (cause == null) {
            return "connection to " + socket + " was closed";
        }
        String why =
                cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
        return "connection to " + socket + " lost: " + why;
    }

    public Kind kind() {
        return kind;
    }

    /**
     * QEMU's error class (e.g. {@code GenericError}, {@code DeviceNotFound}) for {@link
     * Kind#ERROR_REPLY}, else null.
     */
    public String errorClass() {
        return errorClass;
    }
}
