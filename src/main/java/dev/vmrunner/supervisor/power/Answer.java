package dev.vmrunner.supervisor.power;

/**
 * The runner's answer to a {@link PowerCommand}, one line: {@code ok: TEXT} when it is done or
 * under way, {@code refused: TEXT} when the runner cannot do it now (the text says why).
 */
public record Answer(boolean refused, String text) {

    private static final String OK = "ok: ";
    private static final String REFUSED = "refused: ";

    public static Answer ok(String text) {
        return new Answer(false, text);
    }

    public static Answer refused(String text) {
        return new Answer(true, text);
    }

    /** The line on the socket. */
    public String line() {
        return (refused ? REFUSED : OK) + text;
    }

    /** The answer a line holds; any line that is not {@code ok: ...} counts as refused. */
    public static Answer parse(String line) {
        if (line.startsWith(OK)) {
            return ok(line.substring(OK.length()));
        }
        return refused(line.startsWith(REFUSED) ? line.substring(REFUSED.length()) : line);
    }
}
