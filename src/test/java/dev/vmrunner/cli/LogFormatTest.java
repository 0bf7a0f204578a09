package dev.vmrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.vmrunner.launch.ChildOutput;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** Both log formats, the JSON one parsed back as a log pipeline would. */
class LogFormatTest {

    private final AtomicReference<String> vm = new AtomicReference<>("web-1");
    private final Formatter json = LogFormat.JSON.formatter(vm::get);
    private final Formatter text = LogFormat.TEXT.formatter(vm::get);

    static final List<String> HOSTILE =
            List.of(
                    "plain",
                    "quote \" and backslash \\ and slash /",
                    "line\nbreak\r\nand\ttab",
                    "control \u0000 \u0001 \u001b[31m \u001f \u007f",
                    "unicode äöü € \uD83D\uDE00 \u2028 \u2029",
                    "lone surrogates \uD800 x \uDC00",
                    "{\"json\": [1, 2]} in a message",
                    "x".repeat(10_000),
                    "");

    @Test
    void jsonIsOneParsableObjectPerRecordWhateverTheMessage() {
        for (String message : HOSTILE) {
            LogRecord r = new LogRecord(Level.WARNING, message);
            r.setLoggerName("vmrunner");
            String line = json.format(r);
            assertTrue(line.endsWith("}\n"), line);
            assertEquals(1, line.split("\n", -1).length - 1, "not one line: " + line);
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            assertEquals(message, o.get("message").getAsString());
            assertEquals("WARN", o.get("level").getAsString());
            assertEquals("web-1", o.get("vm").getAsString());
            assertEquals("runner", o.get("process").getAsString());
            assertEquals("vmrunner", o.get("logger").getAsString());
            assertEquals(Set.of("time", "level", "message", "vm", "process", "logger"), o.keySet());
        }
    }

    @Test
    void jsonTimeIsIsoWithOffset() {
        LogRecord r = new LogRecord(Level.INFO, "now");
        OffsetDateTime time =
                OffsetDateTime.parse(
                        JsonParser.parseString(json.format(r))
                                .getAsJsonObject()
                                .get("time")
                                .getAsString());
        assertEquals(r.getInstant().toEpochMilli(), time.toInstant().toEpochMilli());
        assertEquals(ZoneOffset.UTC, time.getOffset()); // the tests run without TZ
    }

    @Test
    void jsonNamesTheChildProcessApartFromItsLine() {
        LogRecord r = record(Level.INFO, "qemu", "char device redirected to /dev/pts/3");
        JsonObject o = JsonParser.parseString(json.format(r)).getAsJsonObject();
        assertEquals("qemu", o.get("process").getAsString());
        assertEquals("char device redirected to /dev/pts/3", o.get("message").getAsString());
        assertEquals("vmrunner.child", o.get("logger").getAsString());
    }

    @Test
    void jsonBeforeTheVmIsKnownAndWithAnException() {
        vm.set(null);
        LogRecord r = new LogRecord(Level.SEVERE, "Failed to {0}");
        r.setParameters(new Object[] {"start"});
        r.setThrown(new IllegalStateException("broken \"state\""));
        JsonObject o = JsonParser.parseString(json.format(r)).getAsJsonObject();
        assertTrue(o.get("vm").isJsonNull(), o.toString());
        assertEquals("ERROR", o.get("level").getAsString());
        assertEquals("Failed to start", o.get("message").getAsString());
        assertEquals(
                "java.lang.IllegalStateException: broken \"state\"",
                o.get("exception").getAsString());
        assertTrue(o.get("logger").isJsonNull(), o.toString());
    }

    @Test
    void debugLevelsAreDebug() {
        for (Level level : List.of(Level.FINE, Level.FINER, Level.FINEST, Level.CONFIG)) {
            JsonObject o =
                    JsonParser.parseString(json.format(new LogRecord(level, "x")))
                            .getAsJsonObject();
            assertEquals("DEBUG", o.get("level").getAsString());
        }
    }

    @Test
    void textHasTheZoneTheLevelAndTheProcessName() {
        String line = text.format(record(Level.WARNING, "qemu", "qemu-system-x86_64: warning: x"));
        assertTrue(
                line.matches(
                        "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d\\d:\\d\\d WARN "
                                + " qemu: qemu-system-x86_64: warning: x\n"),
                line);
        String time = line.substring(0, line.indexOf(' '));
        assertEquals(OffsetDateTime.parse(time).getOffset(), ZoneOffset.UTC);
        assertTrue(text.format(new LogRecord(Level.SEVERE, "bad")).contains(" ERROR bad\n"));
        assertTrue(text.format(new LogRecord(Level.INFO, "ok")).contains(" INFO  ok\n"));
    }

    @Test
    void zoneIsUtcUnlessTzIsSet() {
        assertEquals(ZoneOffset.UTC, LogFormat.zone(null));
        assertEquals(ZoneOffset.UTC, LogFormat.zone(""));
    }

    /** A child's line as {@link ChildOutput#log} makes it. */
    private static LogRecord record(Level level, String process, String line) {
        Logger logger = Logger.getAnonymousLogger();
        AtomicReference<LogRecord> seen = new AtomicReference<>();
        logger.setUseParentHandlers(false);
        logger.setLevel(Level.ALL);
        logger.addHandler(
                new java.util.logging.Handler() {
                    @Override
                    public void publish(LogRecord r) {
                        seen.set(r);
                    }

                    @Override
                    public void flush() {}

                    @Override
                    public void close() {}
                });
        ChildOutput.log(logger, process, line);
        LogRecord r = seen.get();
        r.setLoggerName("vmrunner.child");
        assertEquals(level, r.getLevel(), line);
        return r;
    }
}
