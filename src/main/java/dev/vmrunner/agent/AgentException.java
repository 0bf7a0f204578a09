package dev.vmrunner.agent;

/** The one failure type of this package; {@link #kind()} says what went wrong. */
public final class AgentException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What failed. */
    public enum Kind {
        /** The agent answered with an {@code "error"} object; see {@link #errorClass()}. */
        ERROR_REPLY,
        /** No answer within the command's timeout: no agent runs, or it restarted meanwhile. */
        TIMEOUT,
        /** The socket closed before the answer arrived (QEMU exited, or the client closed). */
        DISCONNECTED,
        /** The socket could not be connected (no QEMU, or no such channel). */
        CONNECT,
        /** The answer was not what the command returns. */
        PROTOCOL,
        /**
         * The guest broke a bound of the channel (a flood, a line too long, bytes that are not
         * UTF-8, too many stale answers): the connection is closed and only tried again after a
         * backoff, during which calls fail at once with this kind.
         */
        MISBEHAVING
    }

    private final Kind kind;
    private final String errorClass;

    AgentException(Kind kind, String message, Throwable cause) {
        this(kind, message, null, cause);
    }

    private AgentException(Kind kind, String message, String errorClass, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.errorClass = errorClass;
    }

    static AgentException errorReply(String command, String errorClass, String desc) {
        return new AgentException(
                Kind.ERROR_REPLY,
                "Failed to run guest agent command " + command + ": " + errorClass + ": " + desc,
                errorClass,
                null);
    }

    public Kind kind() {
        return kind;
    }

    /** The agent's error class (e.g. {@code CommandNotFound}) for ERROR_REPLY, else null. */
    public String errorClass() {
        return errorClass;
    }
}
