package dev.vmrunner.cli;

import java.io.UnsupportedEncodingException;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * Log records go to stderr, one line each, in the {@link LogFormat} chosen on the command line
 * ({@code --log-format}, else {@code $VMRUNNER_LOG_FORMAT}, else text).
 */
final class LogSetup {

    // The JDK holds loggers weakly: a logger whose level was set but that nobody references can
    // be collected, and its level with it. These keep ours (set in configure: until then nothing
    // here touches the JDK's logging, which Main leaves to its early thread).
    private static Logger runner;
    private static Logger code;

    private static volatile LogFormat format = LogFormat.TEXT;
    private static volatile String vm;

    private LogSetup() {}

    /** The format of the handlers {@link #configure} installs from now on. */
    static void useFormat(LogFormat chosen) {
        format = chosen;
    }

    /** The VM the records are about, once the configuration names it. */
    static void vm(String name) {
        vm = name;
    }

    static void configure(Level level) {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        // A StreamHandler on System.err that flushes every record (ConsoleHandler cannot be
        // pointed elsewhere without closing System.err).
        Handler handler =
                new StreamHandler(System.err, format.formatter(() -> vm)) {
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
        try {
            // Not the platform's charset, which is ASCII in a container without a locale.
            handler.setEncoding("UTF-8");
        } catch (UnsupportedEncodingException e) {
            throw new AssertionError("UTF-8 is always supported", e);
        }
        handler.setLevel(level);
        root.addHandler(handler);
        root.setLevel(Level.INFO);
        // Only our own loggers go below INFO; libraries stay quiet.
        runner = Logger.getLogger("vmrunner");
        code = Logger.getLogger("dev.vmrunner");
        runner.setLevel(level);
        code.setLevel(level);
    }
}
