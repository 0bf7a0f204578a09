package dev.vmrunner.cli;

import dev.vmrunner.status.Status;
import dev.vmrunner.supervisor.Supervisor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Tells systemd how the VM is doing when {@code NOTIFY_SOCKET} is set (a {@code Type=notify} unit):
 * {@code READY=1} once the vCPUs run, {@code STATUS=} with each state change, {@code STOPPING=1}
 * when a stop begins.
 *
 * <p>Java 17 cannot send on an AF_UNIX datagram socket (SocketChannel is stream-only, and
 * DatagramChannel has no Unix family in any Java release), so the message is sent by Debian's
 * {@code systemd-notify}, started off the loop, one at a time, each given a few seconds. Since
 * systemd 246 it waits until systemd has processed the message (a barrier), so systemd no longer
 * sees a sender that has exited; the unit still needs {@code NotifyAccess=all}, as the sender is
 * not the main process. A failure is logged once and never touches the VM.
 */
final class SdNotify implements Consumer<Status> {

    private static final Logger LOG = Logger.getLogger("vmrunner");
    private static final long WAIT_SECONDS = 5;
    private static final int MAX_QUEUED = 8;
    private static final String[] EXECUTABLES = {"/usr/bin/systemd-notify", "/bin/systemd-notify"};

    private final String executable;
    private final long pid = ProcessHandle.current().pid();
    private final ThreadPoolExecutor sender;
    private final AtomicBoolean warned = new AtomicBoolean();
    private String lastState;

    private SdNotify(String executable) {
        this.executable = executable;
        this.sender =
                new ThreadPoolExecutor(
                        1,
                        1,
                        0,
                        TimeUnit.SECONDS,
                        new ArrayBlockingQueue<>(MAX_QUEUED),
                        r -> {
                            Thread t = new Thread(r, "sd-notify");
                            t.setDaemon(true);
                            return t;
                        },
                        (r, pool) -> warnOnce("too many notifications waiting; one was dropped"));
    }

    /** Watches the supervisor's status if {@code NOTIFY_SOCKET} is set; otherwise does nothing. */
    static void watch(Supervisor supervisor, Map<String, String> env) {
        if (env.get("NOTIFY_SOCKET") == null || env.get("NOTIFY_SOCKET").isEmpty()) {
            return;
        }
        for (String candidate : EXECUTABLES) {
            if (Files.isExecutable(Path.of(candidate))) {
                supervisor.watchStatus(new SdNotify(candidate));
                return;
            }
        }
        LOG.warning(
                "NOTIFY_SOCKET is set but systemd-notify is not installed: systemd is not told"
                        + " when the VM is ready");
    }

    /** The messages for a status, given the state before it (null at first). */
    static List<String> messages(String previous, Status s, long pid) {
        List<String> out = new ArrayList<>();
        if (s.state().equals(previous)) {
            return out;
        }
        if (s.ready()) {
            out.add("--pid=" + pid);
            out.add("READY=1");
        } else if ("stopping".equals(s.state())) {
            out.add("STOPPING=1");
        }
        out.add("STATUS=VM " + s.name() + " " + s.state() + detail(s));
        return out;
    }

    private static String detail(Status s) {
        return s.qemuPid() == null ? "" : " (QEMU pid " + s.qemuPid() + ")";
    }

    /** On the loop thread: queues the messages and returns. */
    @Override
    public void accept(Status status) {
        List<String> args = messages(lastState, status, pid);
        lastState = status.state();
        if (!args.isEmpty()) {
            sender.execute(() -> send(args));
        }
        if ("stopped".equals(status.state())) {
            sender.shutdown();
        }
    }

    private void send(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(executable);
        command.addAll(args);
        try {
            Process p =
                    new ProcessBuilder(command)
                            .redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .start();
            if (!p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                warnOnce("systemd-notify did not finish within " + WAIT_SECONDS + " s");
            } else if (p.exitValue() != 0) {
                warnOnce("systemd-notify exited with " + p.exitValue());
            }
        } catch (IOException e) {
            warnOnce(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void warnOnce(String why) {
        if (warned.compareAndSet(false, true)) {
            LOG.warning(
                    () ->
                            "Failed to notify systemd ("
                                    + why
                                    + "); the VM runs on, further failures are not logged");
        }
    }
}
