package dev.vmrunner.cli;

import java.time.Instant;
import java.util.logging.Logger;

/**
 * The part of a VM's start that does not wait for its configuration, done on a second thread while
 * the main thread reads the configuration and renders the commands: setting up the JDK's logging
 * (some 20 ms) and the log's time format, installing the signal handlers (a dynamic proxy, some
 * milliseconds to make), then the first use of JDK and library code the start needs later ({@link
 * Warmup#beforeStart}): done here, the main thread finds that done and QEMU starts sooner.
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
        Warmup.beforeStart();
    }
}
