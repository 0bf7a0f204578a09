package dev.vmrunner.supervisor;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.ConfigWatcher;
import dev.vmrunner.config.DisplayPassword;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.QmpDisplay;
import dev.vmrunner.status.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Who may use the VM's SPICE display: the password, set over QMP before the vCPUs run and again
 * whenever its files change, and the clients connected.
 *
 * <p>The password comes, as upstream's runner reads it, from the files {@code display-password} and
 * {@code password-expiry} beside the configuration file (a Secret projected next to the ConfigMap),
 * or else from {@code vm.display.spice.ticket}. Those files are watched like the configuration
 * (symbolic link swaps included) when the password file exists at start; the template decided then
 * whether SPICE asks for a password ({@code hasDisplayPassword}). The password never reaches a log.
 * Loop thread only, except the watchers' callbacks, which post.
 */
final class DisplayAccess {
    private static final Logger LOG = Logger.getLogger("vmrunner");
    private static final String PROTOCOL = "spice";

    /** Writes closer together than this are read as one change of a password file. */
    private static final Duration SETTLE = Duration.ofMillis(20);

    private final Loop loop;
    private final Path configFile;
    private final String ticket;
    private final List<ConfigWatcher> watchers = new ArrayList<>();
    private boolean passwordSet;
    private String expiry;
    private Integer clients;

    DisplayAccess(Loop loop, RunnerConfig config) {
        this.loop = loop;
        this.configFile = config.configFile();
        var display = config.vm().display();
        this.ticket = display == null || display.spice() == null ? null : display.spice().ticket();
    }

    /**
     * Sets the password before the vCPUs run. Completes normally even when that fails (logged): the
     * template made SPICE ask for a password, so a failure locks the display, and the guest need
     * not wait for it.
     */
    CompletableFuture<Void> configure(Qmp qmp) {
        Optional<DisplayPassword> fromFiles = readFiles();
        if (fromFiles.isPresent()) {
            return apply(qmp, fromFiles.get());
        }
        if (ticket != null) {
            return settle(qmp.display().setPassword(PROTOCOL, ticket), "never", "set");
        }
        return CompletableFuture.completedFuture(null);
    }

    /** From now on a change of the password files is applied at once. Loop thread. */
    void watch(Supplier<Qmp> monitor) {
        if (configFile == null || !DisplayPassword.exists(configFile)) {
            return;
        }
        Path dir = configFile.toAbsolutePath().getParent();
        for (String name : List.of(DisplayPassword.PASSWORD_FILE, DisplayPassword.EXPIRY_FILE)) {
            Path file = dir.resolve(name);
            if (!Files.exists(file)) {
                continue; // an expiry file that comes later is read with the next password change
            }
            try {
                watchers.add(
                        ConfigWatcher.start(
                                file,
                                null,
                                content ->
                                        loop.post(new Event.Continuation(() -> changed(monitor))),
                                SETTLE));
            } catch (IOException e) {
                LOG.warning(
                        () ->
                                "Failed to watch "
                                        + file
                                        + ": "
                                        + e.getMessage()
                                        + "; a changed display password takes effect at the next"
                                        + " start");
            }
        }
    }

    /** A SPICE client connected or went away: count the clients again. */
    void clientsChanged(Qmp qmp) {
        loop.whenDone(
                qmp.display().querySpice(),
                (spice, error) -> {
                    if (error == null) {
                        int before = clients == null ? 0 : clients;
                        clients = spice.clients();
                        if (clients != before) {
                            LOG.info(
                                    () ->
                                            "SPICE display: "
                                                    + clients
                                                    + (clients == 1 ? " client" : " clients")
                                                    + " connected");
                        }
                    }
                });
    }

    /** For the status; null when the VM has no password and no client was ever seen. */
    Status.Display status() {
        if (!passwordSet && clients == null) {
            return null;
        }
        return new Status.Display(passwordSet, passwordSet ? expiry : null, clients);
    }

    void close() {
        watchers.forEach(ConfigWatcher::close);
        watchers.clear();
    }

    private void changed(Supplier<Qmp> monitor) {
        Optional<DisplayPassword> password = readFiles();
        Qmp qmp = monitor.get();
        if (password.isEmpty() || qmp == null) {
            return;
        }
        LOG.info("The display password changed; setting it again");
        var unused = apply(qmp, password.get());
    }

    private CompletableFuture<Void> apply(Qmp qmp, DisplayPassword password) {
        QmpDisplay display = qmp.display();
        return settle(
                display.setPassword(PROTOCOL, password.password())
                        .thenCompose(ok -> display.expirePassword(PROTOCOL, password.expiry())),
                password.expiry(),
                "set (expiry " + password.expiry() + ")");
    }

    /** Completes on the loop thread once the call has, noting the outcome. */
    private CompletableFuture<Void> settle(
            CompletableFuture<Void> call, String expiryNow, String done) {
        CompletableFuture<Void> settled = new CompletableFuture<>();
        loop.whenDone(
                call,
                (ok, error) -> {
                    if (error == null) {
                        passwordSet = true;
                        expiry = expiryNow;
                        LOG.info(() -> "SPICE display password " + done);
                    } else {
                        LOG.warning(
                                () ->
                                        "Failed to set the SPICE display password: "
                                                + error.getMessage()
                                                + (passwordSet
                                                        ? "; the previous password still holds"
                                                        : "; no client can connect"));
                    }
                    settled.complete(null);
                });
        return settled;
    }

    /** The password files' content; empty when there are none or they cannot be read (logged). */
    private Optional<DisplayPassword> readFiles() {
        if (configFile == null) {
            return Optional.empty();
        }
        try {
            return DisplayPassword.read(configFile);
        } catch (ConfigException e) {
            LOG.warning(e.getMessage());
            return Optional.empty();
        }
    }
}
