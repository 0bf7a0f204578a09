package dev.vmrunner.cli;

import dev.vmrunner.status.Status;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Tells systemd how the VM is doing when the runner runs as a {@code Type=notify} service ({@code
 * NOTIFY_SOCKET} is set): {@code READY=1} once the vCPUs run, {@code STOPPING=1} when a stop
 * begins, and a {@code STATUS=} line (shown by {@code systemctl status}) on every change of state.
 *
 * <p>The notification socket is an {@code AF_UNIX} datagram socket, which the JDK (17) cannot open,
 * so the messages go through systemd's own {@code systemd-notify}, which waits until systemd has
 * read them (a barrier, systemd ≥ 246): the message cannot be lost because its sender exited first.
 * systemd accepts messages from a process other than the main one only with {@code
 * NotifyAccess=all} (deploy/systemd/vmrunner@.service). Messages are sent one at a time off the
 * loop; a failure is logged once and never touches the VM.
 */
final class SdNotify implements Consumer<Status> {
    private static final Logger LOG = Logger.getLogger("vmrunner");

    /** At most this many messages wait; a STATUS line is not worth blocking the loop for. */
    private static final int QUEUE = 16;

    private final String command;
    private final ExecutorService sender;
    private String lastState;
    private boolean ready;
    private volatile boolean failed;

    private SdNotify(String command) {
        this.command = command;
        this.sender =
                new ThreadPoolExecutor(
                        1,
                        1,
                        0,
                        TimeUnit.SECONDS,
                        new LinkedBlockingQueue<>(QUEUE),
                        r -> {
                            Thread t = new Thread(r, "sd-notify");
                            t.setDaemon(true);
                            return t;
                        },
                        new ThreadPoolExecutor.DiscardPolicy());
    }

    /** A notifier when {@code NOTIFY_SOCKET} is set, else null. */
    static SdNotify fromEnvironment(Map<String, String> env) {
        String socket = env.get("NOTIFY_SOCKET");
        return socket == null || socket.isEmpty() ? null : new SdNotify("systemd-notify");
    }

    /** Called on the loop thread with every published status; acts on changes of state. */
    @Override
    public void accept(Status status) {
        if (status.state().equals(lastState)) {
            return;
        }
        lastState = status.state();
        List<String> message = messages(status, !ready);
        if (status.ready()) {
            ready = true;
        }
        sender.execute(() -> send(message));
    }

    /** The assignments for a status, READY=1 only the first time the VM runs. */
    static List<String> messages(Status status, boolean firstRun) {
        List<String> message = new ArrayList<>();
        switch (status.state()) {
            case "running" -> {
                if (firstRun) {
                    message.add("READY=1");
                }
                message.add(
                        "STATUS=VM "
                                + status.name()
                                + " running (QEMU pid "
                                + status.qemuPid()
                                + (status.adoptedAt() != null ? ", adopted" : "")
                                + ")");
            }
            case "stopping" -> {
                // A VM stopped on purpose leaves the runner (the service) up: no STOPPING=1.
                if (!Status.STOPPED.equals(status.desiredState())) {
                    message.add("STOPPING=1");
                }
                message.add("STATUS=Stopping VM " + status.name() + ": waiting for the guest");
            }
            case "stopped" -> {
                if (firstRun && status.ready()) {
                    message.add("READY=1"); // begun stopped on purpose: the service is up
                }
                message.add(
                        "STATUS=VM "
                                + status.name()
                                + " stopped"
                                + (status.ready() ? " (vmrunner start starts it)" : ""));
            }
            default -> message.add("STATUS=Starting VM " + status.name());
        }
        return message;
    }

    /** Waits up to {@code millis} for the messages still queued (the last ones, at the end). */
    void flush(long millis) {
        sender.shutdown();
        try {
            if (!sender.awaitTermination(millis, TimeUnit.MILLISECONDS)) {
                LOG.fine("systemd-notify did not finish in time");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void send(List<String> assignments) {
        List<String> argv = new ArrayList<>();
        argv.add(command);
        argv.addAll(assignments);
        try {
            Process p =
                    new ProcessBuilder(argv)
                            .redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .start();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                warnOnce("systemd-notify did not finish within 5 s");
            } else if (p.exitValue() != 0) {
                warnOnce("systemd-notify failed (exit " + p.exitValue() + ")");
            }
        } catch (IOException e) {
            warnOnce("cannot run systemd-notify: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void warnOnce(String why) {
        if (!failed) {
            failed = true;
            LOG.warning(
                    () ->
                            "Failed to notify systemd ($NOTIFY_SOCKET is set): "
                                    + why
                                    + "; the VM is not affected");
        }
    }
}
