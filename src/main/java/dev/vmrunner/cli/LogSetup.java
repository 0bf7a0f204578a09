package dev.vmrunner.cli;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/** One line per record on stderr: time, level, message; child output carries its name. */
final class LogSetup {

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

    // The JDK holds loggers weakly: a logger whose level was set but that nobody references can
    // be collected, and its level with it. These keep ours.
    private static final Logger RUNNER = Logger.getLogger("vmrunner");
    private static final Logger CODE = Logger.getLogger("dev.vmrunner");

    private LogSetup() {}

    static void configure(Level level) {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        // A StreamHandler on System.err that flushes every record (ConsoleHandler cannot be
        // pointed elsewhere without closing System.err).
        Handler handler =
                new StreamHandler(System.err, new OneLine()) {
                    @Override
                    public synchronized void publish(LogRecord record) {
                        super.publish(record);
                        flush();
                    }

                    @Override
                    public synchronized void close() {
                        flush();
                    }
                };
        handler.setLevel(level);
        root.addHandler(handler);
        root.setLevel(Level.INFO);
        // Only our own loggers go below INFO; libraries stay quiet.
        RUNNER.setLevel(level);
        CODE.setLevel(level);
    }

    private static final class OneLine extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder line =
                    new StringBuilder(128)
                            .append(TIME.format(Instant.ofEpochMilli(r.getMillis())))
                            .append(' ')
                            .append(label(r.getLevel()))
                            .append(' ')
                            .append(formatMessage(r))
                            .append('\n');
            if (r.getThrown() != null && r.getLevel().intValue() < Level.INFO.intValue()) {
                line.append(r.getThrown()).append('\n');
            }
            return line.toString();
        }

        private static String label(Level level) {
            int value = level.intValue();
            if (value >= Level.SEVERE.intValue()) {
                return "ERROR";
            }
            if (value >= Level.WARNING.intValue()) {
                return "WARN ";
            }
            if (value >= Level.INFO.intValue()) {
                return "INFO ";
            }
            return "DEBUG";
        }
    }
}
