package dev.vmrunner.cli;

import dev.vmrunner.qmp.QmpConnection;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.logging.Logger;

/**
 * The part of a VM's start that does not wait for its configuration, done on a second thread while
 * the main thread reads the configuration and renders the commands: setting up the JDK's logging
 * (some 20 ms) and the log's time format, installing the signal handlers (a dynamic proxy, some
 * milliseconds to make), then the first use of JDK and library code the start needs later (QMP's
 * JSON, the hash behind derived MAC addresses, the process and socket code). A first use loads,
 * links and initializes classes and resolves their references; done here, the main thread finds
 * that done and QEMU starts sooner. The warm-ups touch nothing outside this JVM, and a failure in
 * one only means the main thread does that work itself.
 */
final class EarlyStart {

    private final Thread thread;
    private volatile Signals.Relay relay;

    private EarlyStart() {
        thread = new Thread(this::work, "early-start");
        thread.setDaemon(true);
    }

    /** Starts the work; {@link #signals()} hands over the installed handlers. */
    static EarlyStart begin() {
        EarlyStart early = new EarlyStart();
        early.thread.start();
        return early;
    }

    /**
     * The signal relay, once installed (waits for it). Installed here, on the caller's thread, when
     * the early thread could not, so that an installation failure is reported as it always was.
     */
    Signals.Relay signals() {
        try {
            while (relay == null && thread.isAlive()) {
                thread.join(1);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Signals.Relay installed = relay;
        return installed != null ? installed : Signals.relay();
    }

    private void work() {
        try {
            // The JDK's logging first: the main thread sets it up once it has read the config.
            var unused = Logger.getLogger("vmrunner");
            LogFormat.time(Instant.now());
        } catch (RuntimeException e) {
            // the main thread does it, and reports what fails
        }
        try {
            relay = Signals.relay();
        } catch (RuntimeException e) {
            return; // signals() installs them on the main thread, which reports the failure
        }
        try {
            MessageDigest.getInstance("SHA-256").digest("warm-up".getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException | RuntimeException e) {
            // MacAddresses reports it, if it is really missing
        }
        try {
            QmpConnection.warmUp();
            var unused = UnixDomainSocketAddress.of("/");
        } catch (RuntimeException e) {
            // the connection does this work itself
        }
        warm("java.lang.ProcessImpl");
        warm("sun.nio.ch.UnixDomainSockets");
    }

    /** Loads and initializes a class, if it is there (JDK internals differ between versions). */
    private static void warm(String className) {
        try {
            Class.forName(className, true, EarlyStart.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
            // not in this JDK: nothing to warm
        }
    }
}
