package dev.vmrunner.cli;

import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.qmp.QmpConnection;
import dev.vmrunner.reconcile.ChangeReport;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;

/**
 * The runner's warm-ups, all of them: first uses of code that a later step needs, done where they
 * cost the start nothing. A first use loads, links and initializes classes and resolves their
 * references; done here, the step that needs the code finds that done. A warm-up touches nothing
 * outside this JVM, and a failure in one only means the real step does that work itself.
 */
final class Warmup {

    private Warmup() {}

    /**
     * On the early thread while the main thread reads the configuration: the code the start needs
     * later (QMP's JSON, the hash behind derived MAC addresses, the process and socket code).
     */
    static void beforeStart() {
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
        load("java.lang.ProcessImpl");
        load("sun.nio.ch.UnixDomainSockets");
    }

    /**
     * On the loop, a second after the VM runs (off its start): the first part of a config edit,
     * reading the configuration and comparing it with the running one, on the start's content and
     * without acting on it, so that the first real edit finds that code ready (bench/reconfig.py:
     * the first edit reached QEMU about 20 ms later than the ones after it). Changes nothing, logs
     * nothing.
     */
    static Runnable configEdit(RunnerConfig running, byte[] content, Map<String, String> env) {
        return () -> {
            try {
                RunnerConfig again =
                        ConfigLoader.parseWithWarnings(content, running.configFile(), env).config();
                var unused = ChangeReport.between(running, again);
            } catch (ConfigException | RuntimeException e) {
                // only a rehearsal: a real change reports what is wrong
            }
        };
    }

    /** Loads and initializes a class, if it is there (JDK internals differ between versions). */
    private static void load(String className) {
        try {
            Class.forName(className, true, Warmup.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
            // not in this JDK: nothing to warm
        }
    }
}
