package dev.vmrunner.cli;

import java.util.function.Consumer;
import sun.misc.Signal;

/**
 * Routes SIGTERM and SIGINT to the supervisor instead of the JVM's shutdown: a stop must be a
 * guest powerdown, which takes time, and the exit code must tell how it went.
 * {@code sun.misc.Signal} (module jdk.unsupported) is the JDK's only way to do this.
 */
final class Signals {

    private Signals() {
    }

    static void route(Consumer<String> handler) {
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> handler.accept(signal.getName()));
        }
    }
}
