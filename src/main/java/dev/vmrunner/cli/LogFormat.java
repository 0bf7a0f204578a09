package dev.vmrunner.cli;

import dev.vmrunner.launch.ChildOutput;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * How log records are written to stderr: {@code text}, one line for people ({@code
 * 2026-12-02T12:40:52.123+00:00 INFO message}), or {@code json}, one JSON object per line for log
 * pipelines ({@link JsonLine}). Times are ISO-8601 with the offset, in UTC unless {@code TZ} names
 * a zone (looking up the host's zone otherwise would cost every start a few tens of milliseconds).
 */
enum LogFormat {
    TEXT,
    JSON;

    /** The environment variable that chooses the format when {@code --log-format} is not given. */
    static final String ENV = "VMRUNNER_LOG_FORMAT";

    /** The records' times (in a holder: made, some milliseconds, when the first is written). */
    private static final class Times {
        static final DateTimeFormatter TIME =
                DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSxxx", Locale.ROOT)
                        .withZone(zone(System.getenv("TZ")));
    }

    /** A record's time as the formats write it. */
    static String time(Instant instant) {
        return Times.TIME.format(instant);
    }

    /** The format called {@code name}, or {@code null}. */
    static LogFormat of(String name) {
        for (LogFormat f : values()) {
            if (f.label().equals(name)) {
                return f;
            }
        }
        return null;
    }

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** A formatter that names {@code vm} in each record (may be {@code null}: not known yet). */
    Formatter formatter(Supplier<String> vm) {
        return this == JSON ? new JsonFormatter(vm) : new TextFormatter();
    }

    static ZoneId zone(String tz) {
        return tz == null || tz.isBlank() ? ZoneOffset.UTC : ZoneId.systemDefault();
    }

    /** ERROR, WARN, INFO or DEBUG. */
    static String level(Level level) {
        int value = level.intValue();
        if (value >= Level.SEVERE.intValue()) {
            return "ERROR";
        }
        if (value >= Level.WARNING.intValue()) {
            return "WARN";
        }
        if (value >= Level.INFO.intValue()) {
            return "INFO";
        }
        return "DEBUG";
    }

    /** Time, level, message; a child's line carries its name ({@code qemu: ...}). */
    static final class TextFormatter extends Formatter {
        @Override
        public String format(LogRecord r) {
            String level = level(r.getLevel());
            String process = ChildOutput.process(r);
            StringBuilder line =
                    new StringBuilder(128)
                            .append(time(r.getInstant()))
                            .append(' ')
                            .append(level)
                            .append("     ", 0, 6 - level.length())
                            .append(
                                    process == null
                                            ? formatMessage(r)
                                            : process + ": " + ChildOutput.line(r))
                            .append('\n');
            if (r.getThrown() != null && r.getLevel().intValue() < Level.INFO.intValue()) {
                line.append(r.getThrown()).append('\n');
            }
            return line.toString();
        }
    }

    /**
     * {@code {"time":…,"level":…,"message":…,"vm":…,"process":…,"logger":…}}, and {@code
     * "exception"} when the record has one. {@code process} is the child that printed the line
     * ({@code qemu}, {@code swtpm}, {@code swtpm_setup}, …) or {@code runner}; {@code vm} is {@code
     * null} until the configuration is read.
     */
    static final class JsonFormatter extends Formatter {
        private final Supplier<String> vm;

        JsonFormatter(Supplier<String> vm) {
            this.vm = vm;
        }

        @Override
        public String format(LogRecord r) {
            String process = ChildOutput.process(r);
            JsonLine line =
                    new JsonLine()
                            .field("time", time(r.getInstant()))
                            .field("level", level(r.getLevel()))
                            .field(
                                    "message",
                                    process == null ? formatMessage(r) : ChildOutput.line(r))
                            .field("vm", vm.get())
                            .field("process", process == null ? "runner" : process)
                            .field("logger", r.getLoggerName());
            if (r.getThrown() != null) {
                line.field("exception", r.getThrown().toString());
            }
            return line.end();
        }
    }
}
