package dev.vmrunner.console;

import dev.vmrunner.config.RuntimeFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Copies what the guest prints on its serial console into the runner's log (where {@code kubectl
 * logs} shows it), line by line, prefixed {@code console:}. QEMU writes the console to a log file
 * (the {@code logfile=} option of the console chardev, docs/templates.md); one daemon thread
 * follows that file with inotify, so nothing runs while the guest is quiet. Lines are made safe
 * ({@link ConsoleLines}) and rate-limited, and the file is kept small: QEMU opens it with {@code
 * O_APPEND} ({@code logappend=on}), so once read it can be truncated under QEMU's feet.
 */
public final class ConsoleTail implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("vmrunner.console");

    /** Truncate the file once this much has been read. */
    static final long MAX_FILE_BYTES = 4L << 20;

    private final Path file;
    private final ConsoleLines lines;
    private final WatchService watch;
    private final Thread thread;
    private long position;
    private volatile boolean closed;

    private ConsoleTail(Path file, Consumer<String> out, long from) throws IOException {
        this.file = file;
        this.lines = new ConsoleLines(out, System::nanoTime);
        this.position = from;
        this.watch = FileSystems.getDefault().newWatchService();
        file.getParent()
                .register(
                        watch,
                        StandardWatchEventKinds.ENTRY_CREATE,
                        StandardWatchEventKinds.ENTRY_MODIFY);
        this.thread = new Thread(this::run, "console-log");
        thread.setDaemon(true);
    }

    /**
     * The console log file of a QEMU command line: the {@code logfile=} of the chardev whose socket
     * is {@code ${runtimeDir}/console.sock}; null when the template has none.
     */
    public static Path logFile(List<String> qemuArgv, Path runtimeDir) {
        String socket = "path=" + runtimeDir.resolve(RuntimeFiles.CONSOLE);
        for (String arg : qemuArgv) {
            List<String> options = options(arg);
            if (options.contains(socket)) {
                for (String option : options) {
                    if (option.startsWith("logfile=")) {
                        return Path.of(option.substring("logfile=".length()));
                    }
                }
            }
        }
        return null;
    }

    /**
     * Follows {@code file} from its end ({@code fromStart} false: an adopted QEMU, whose earlier
     * output an earlier runner logged) or its start; null (logged) when it cannot be watched.
     */
    public static ConsoleTail follow(Path file, boolean fromStart) {
        try {
            long from = fromStart || !Files.exists(file) ? 0 : Files.size(file);
            ConsoleTail tail = new ConsoleTail(file, LOG::info, from);
            tail.thread.start();
            return tail;
        } catch (IOException e) {
            LOG.warning(
                    () ->
                            "Failed to follow the guest's console log "
                                    + file
                                    + ": "
                                    + e.getMessage()
                                    + "; the guest's output is not logged");
            return null;
        }
    }

    private void run() {
        try {
            readNew();
            while (!closed) {
                var key = watch.poll(1, TimeUnit.HOURS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                    survive(this::readNew);
                }
            }
        } catch (ClosedWatchServiceException | InterruptedException e) {
            // closed
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "Stopped copying the guest's console to the log: " + e, e);
        }
    }

    /** One read; an Error (an OutOfMemoryError) is logged and the next change read again. */
    @SuppressWarnings("CatchingUnchecked") // the copy goes on after anything
    private static void survive(Runnable read) throws InterruptedException {
        try {
            read.run();
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "Failed to copy the guest's console to the log: " + e);
            Thread.sleep(1000); // no busy loop on a lasting fault
        }
    }

    /** Reads what was appended since the last read; then truncates a file grown large. */
    private synchronized void readNew() {
        if (!Files.isRegularFile(file)) {
            return;
        }
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            if (in.size() < position) {
                position = 0; // truncated or replaced
            }
            ByteBuffer buffer = ByteBuffer.allocate(64 << 10);
            int n;
            while ((n = in.read(buffer, position)) > 0) {
                position += n;
                buffer.flip();
                lines.accept(buffer);
                buffer.clear();
            }
        } catch (IOException e) {
            LOG.fine(() -> "Failed to read " + file + ": " + e.getMessage());
            return;
        }
        if (position > MAX_FILE_BYTES) {
            try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE)) {
                out.truncate(0);
                position = 0;
            } catch (IOException e) {
                LOG.fine(() -> "Failed to truncate " + file + ": " + e.getMessage());
            }
        }
    }

    /** Copies what is left (QEMU's last output) and stops. */
    @Override
    public void close() {
        closed = true;
        readNew();
        lines.flush();
        try {
            watch.close();
        } catch (IOException e) {
            LOG.fine(() -> "Failed to close the console watch: " + e.getMessage());
        }
    }

    /** QEMU's option list: split at single commas; a doubled comma is a comma of the value. */
    static List<String> options(String arg) {
        List<String> options = new ArrayList<>();
        StringBuilder option = new StringBuilder();
        for (int i = 0; i < arg.length(); i++) {
            char c = arg.charAt(i);
            if (c == ',' && i + 1 < arg.length() && arg.charAt(i + 1) == ',') {
                option.append(',');
                i++;
            } else if (c == ',') {
                options.add(option.toString());
                option.setLength(0);
            } else {
                option.append(c);
            }
        }
        options.add(option.toString());
        return options;
    }
}
