package dev.vmrunner.launch;

import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * A line a child process printed, as a log record: its level guessed from the line, and the
 * process's name kept apart from the text so that a structured log can name the process in a field
 * of its own. Formatted plainly the record reads {@code qemu: <line>}.
 *
 * <p>Levels: QEMU reports with {@code error_report}/{@code warn_report}/{@code info_report} ({@code
 * util/qemu-error.c}), whose lines start with the program's name and, for warnings and infos,
 * {@code warning: }/{@code info: }; so a line {@code qemu-system-x86_64: warning: ...} is a
 * warning, a line {@code qemu-system-x86_64: ...} without such a word an error (but {@code
 * terminating on signal}, which QEMU prints when told to quit, is information). Any process's
 * {@code NAME: warning:}/{@code NAME: error:} lines are read the same way. Hex dumps (swtpm_setup
 * prints the EK's modulus, swtpm its TPM commands) are debug details. Everything else is
 * information.
 */
public final class ChildOutput {

    /** The message pattern of a child's line: process name, then the line. */
    static final String PATTERN = "{0}: {1}";

    /** A run of hex digits this long is a key or a dump, not a message. */
    private static final int HEX_RUN = 64;

    /** Bytes in a line of only two-digit hex groups that make it a dump. */
    private static final int HEX_BYTES = 8;

    /** The start of passt's complaint that it has no syslog (see {@link #isSyslogFailure}). */
    private static final String SYSLOG_FAILURE = "Failed to send ";

    private ChildOutput() {}

    /** Logs {@code line} of process {@code process} at the level it reads as. */
    public static void log(Logger logger, String process, String line) {
        Level level = level(line);
        if (logger.isLoggable(level)) {
            LogRecord record = record(level, process, line);
            record.setLoggerName(logger.getName());
            logger.log(record);
        }
    }

    static LogRecord record(Level level, String process, String line) {
        LogRecord record = new LogRecord(level, PATTERN);
        record.setParameters(new Object[] {process, line});
        return record;
    }

    /** The process that printed the record's line, or {@code null} if it is not such a record. */
    public static String process(LogRecord record) {
        Object[] p = record.getParameters();
        return PATTERN.equals(record.getMessage()) && p != null && p.length == 2
                ? String.valueOf(p[0])
                : null;
    }

    /** The line a child printed, without the process's name; for a record of {@link #process}. */
    public static String line(LogRecord record) {
        return String.valueOf(record.getParameters()[1]);
    }

    /** The level a child's output line reads as. */
    public static Level level(String line) {
        if (isSyslogFailure(line)) {
            return Level.FINE;
        }
        String text = withoutTimestamp(line);
        int colon = programPrefix(text);
        if (colon > 0) {
            String rest = text.substring(colon + 2);
            if (startsWithWord(rest, "warning") || startsWithWord(rest, "warn")) {
                return Level.WARNING;
            }
            if (startsWithWord(rest, "error")) {
                return Level.SEVERE;
            }
            if (startsWithWord(rest, "info")) {
                return Level.INFO;
            }
            if (isQemu(text.substring(0, colon))) {
                return rest.startsWith("terminating on signal") ? Level.INFO : Level.SEVERE;
            }
        }
        return isDump(text) ? Level.FINE : Level.INFO;
    }

    /**
     * The index of the ": " after a leading program name ({@code qemu-system-x86_64}, {@code
     * swtpm_localca}), or -1.
     */
    private static int programPrefix(String text) {
        int i = 0;
        while (i < text.length() && isProgramChar(text.charAt(i))) {
            i++;
        }
        return i > 0 && text.startsWith(": ", i) ? i : -1;
    }

    /** QEMU's program names; a guest's {@code qemu-ga: ...} on the serial console is not one. */
    private static boolean isQemu(String program) {
        return program.startsWith("qemu-system-") || program.equals("qemu-kvm");
    }

    private static boolean isProgramChar(char c) {
        return c >= 'a' && c <= 'z'
                || c >= 'A' && c <= 'Z'
                || c >= '0' && c <= '9'
                || c == '-'
                || c == '_'
                || c == '.'
                || c == '+';
    }

    private static boolean startsWithWord(String text, String word) {
        return text.regionMatches(true, 0, word, 0, word.length())
                && text.length() > word.length()
                && text.charAt(word.length()) == ':';
    }

    /** QEMU's {@code -msg timestamp=on} puts an ISO time and a space before the program name. */
    private static String withoutTimestamp(String line) {
        int space = line.indexOf(' ');
        boolean stamped =
                space >= 20
                        && Character.isDigit(line.charAt(0))
                        && line.charAt(4) == '-'
                        && line.charAt(10) == 'T';
        return stamped ? line.substring(space + 1) : line;
    }

    /**
     * passt (Debian 12's) logs to syslog as well in the foreground, and where there is no {@code
     * /dev/log} (a container) says so before every line: "Failed to send 47 bytes to syslog".
     */
    static boolean isSyslogFailure(String line) {
        return line.startsWith(SYSLOG_FAILURE)
                && line.endsWith(" bytes to syslog")
                && line.length() < SYSLOG_FAILURE.length() + 24;
    }

    /** A long run of hex digits, or a line of hex byte groups (an offset may lead). */
    static boolean isDump(String line) {
        int run = 0;
        int pairs = 0;
        boolean onlyPairs = true;
        String[] words = line.strip().split(" +");
        for (int i = 0; i < line.length(); i++) {
            run = isHex(line.charAt(i)) ? run + 1 : 0;
            if (run >= HEX_RUN) {
                return true;
            }
        }
        for (int i = 0; i < words.length; i++) {
            String w = words[i];
            boolean offset = i == 0 && w.endsWith(":") && w.length() > 1;
            if (w.length() == 2 && isHex(w.charAt(0)) && isHex(w.charAt(1))) {
                pairs++;
            } else if (!offset) {
                onlyPairs = false;
            }
        }
        return onlyPairs && pairs >= HEX_BYTES;
    }

    private static boolean isHex(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }
}
