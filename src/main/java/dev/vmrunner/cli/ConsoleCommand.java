package dev.vmrunner.cli;

import dev.vmrunner.config.RunnerLocation;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.status.ExitCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * {@code vmrunner console}: the guest's serial console ({@code ${runtimeDir}/console.sock}), like
 * {@code virsh console}. On a terminal the terminal is put into raw mode and Ctrl-] detaches; with
 * pipes, bytes are copied as they are and the command ends once its input has ended and the guest
 * has been quiet for a moment, so that scripts can drive it. QEMU serves one client at a time, so a
 * second attach is refused (the attached one holds {@code console.lock}).
 */
final class ConsoleCommand {

    /** Ctrl-]: detaches, as in telnet and virsh. */
    static final int ESCAPE = 0x1d;

    /** With piped input: how long the guest may stay quiet after the input ended. */
    private static final long QUIET_MILLIS = 1500;

    private ConsoleCommand() {}

    static int run(CommonOptions options) {
        return Main.withConfig(options, ConsoleCommand::run);
    }

    private static int run(Main.Target target) {
        PrintStream err = System.err;
        RunnerLocation config = target.location();
        if (target.rejected() != null) {
            StatusCommand.warnRejected(target.rejected(), err);
        }
        Path socket = config.runtimeDir().resolve(RuntimeFiles.CONSOLE);
        if (!Files.exists(socket)) {
            err.println(
                    "vmrunner: VM "
                            + config.name()
                            + " has no console at "
                            + socket
                            + " (no runner runs it, or its template gives the serial console no"
                            + " socket there)");
            return ExitCode.NOT_RUNNING.code();
        }
        Path lockFile = config.runtimeDir().resolve(RuntimeFiles.CONSOLE_LOCK);
        try (FileChannel lock =
                FileChannel.open(
                        lockFile,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.READ,
                        StandardOpenOption.WRITE)) {
            FileLock held = lock.tryLock();
            if (held == null) {
                err.println(
                        "vmrunner: the console of VM "
                                + config.name()
                                + " is in use by another 'vmrunner console'"
                                + holder(lockFile)
                                + "; QEMU serves one at a time");
                return ExitCode.CONSOLE_BUSY.code();
            }
            lock.truncate(0);
            lock.write(StandardCharsets.US_ASCII.encode(ProcessHandle.current().pid() + "\n"), 0);
            return attach(config, socket);
        } catch (IOException e) {
            err.println("vmrunner: failed to attach to " + socket + ": " + e.getMessage());
            return ExitCode.NOT_RUNNING.code();
        }
    }

    private static String holder(Path lockFile) {
        try {
            String pid = Files.readString(lockFile).strip();
            return pid.isEmpty() ? "" : " (pid " + pid + ")";
        } catch (IOException e) {
            return "";
        }
    }

    private static int attach(RunnerLocation config, Path socket) throws IOException {
        // Error Prone warns that JDK 22 to 24 return a console for pipes too; the JDKs we run on,
        // 17 and 25 (java.base's console again), return null unless stdin and stdout are a tty.
        @SuppressWarnings("SystemConsoleNull")
        boolean terminal = System.console() != null;
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            Output output = new Output(channel, System.out);
            if (terminal) {
                System.err.println(
                        "Connected to the console of VM "
                                + config.name()
                                + "; escape character is ^] (Ctrl-])\r");
                String saved = stty("-g");
                Thread restore = new Thread(() -> stty(saved));
                Runtime.getRuntime().addShutdownHook(restore);
                stty("raw -echo");
                try {
                    copyInput(System.in, channel, true);
                } finally {
                    stty(saved);
                    Runtime.getRuntime().removeShutdownHook(restore);
                    System.err.println();
                }
            } else {
                copyInput(System.in, channel, false);
                output.awaitQuiet();
            }
        }
        return 0;
    }

    /** Copies what the guest prints; its thread ends when QEMU closes the connection. */
    private static final class Output {
        private final Thread thread;
        private volatile long lastOutput = System.nanoTime();

        Output(SocketChannel channel, PrintStream out) {
            thread = new Thread(() -> copy(channel, out), "console-output");
            thread.setDaemon(true);
            thread.start();
        }

        private void copy(SocketChannel channel, PrintStream out) {
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            try {
                while (channel.read(buffer) > 0) {
                    out.write(buffer.array(), 0, buffer.position());
                    out.flush();
                    lastOutput = System.nanoTime();
                    buffer.clear();
                }
            } catch (IOException e) {
                // closed: the VM stopped, or we detached
            }
        }

        /** After piped input ended: what the guest answers still comes out, then it ends. */
        void awaitQuiet() {
            lastOutput = System.nanoTime();
            try {
                while (thread.isAlive()
                        && System.nanoTime() - lastOutput
                                < TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS)) {
                    Thread.sleep(50);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Copies the user's input to the guest until it ends (or, on a terminal, until Ctrl-]). */
    private static void copyInput(InputStream in, SocketChannel channel, boolean escape)
            throws IOException {
        byte[] buffer = new byte[4096];
        int n;
        while ((n = in.read(buffer)) > 0) {
            int length = n;
            if (escape) {
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == ESCAPE) {
                        length = i;
                        break;
                    }
                }
            }
            channel.write(ByteBuffer.wrap(buffer, 0, length));
            if (length < n) {
                return;
            }
        }
    }

    /** Runs stty on the controlling terminal; returns its output (for -g). */
    private static String stty(String arguments) {
        try {
            Process p =
                    new ProcessBuilder("sh", "-c", "stty " + arguments + " < /dev/tty")
                            .redirectErrorStream(true)
                            .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(5, TimeUnit.SECONDS);
            return out.strip();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }
}
