package dev.vmrunner.cli;

import dev.vmrunner.supervisor.SignalMeaning;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Routes signals to the supervisor instead of the JVM's default: SIGTERM must become a guest
 * powerdown, which takes time, and SIGHUP, SIGUSR1 and the like must not end the runner and leave
 * QEMU without it ({@link SignalMeaning} says what each one means). {@code sun.misc.Signal} (module
 * jdk.unsupported, present in every JDK since 9) is the only way to do this in Java. It is reached
 * reflectively because javac's warning about it cannot be suppressed and the build treats warnings
 * as errors.
 */
final class Signals {

    private static final Logger LOG = Logger.getLogger("vmrunner");

    private Signals() {}

    /**
     * Holds the signals that arrive before there is a supervisor, and hands them over once there is
     * one.
     */
    static final class Relay {
        private final List<String> early = new ArrayList<>();
        private Consumer<String> target;

        synchronized void accept(String name) {
            if (target == null) {
                early.add(name);
            } else {
                target.accept(name);
            }
        }

        synchronized void deliverTo(Consumer<String> handler) {
            target = handler;
            early.forEach(handler);
            early.clear();
        }
    }

    /** Catches every signal of {@link SignalMeaning#HANDLED} from now on. */
    static Relay relay() {
        Relay relay = new Relay();
        route(relay::accept);
        return relay;
    }

    static void route(Consumer<String> handler) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Method getName = signalClass.getMethod("getName");
            Object proxy =
                    Proxy.newProxyInstance(
                            Signals.class.getClassLoader(),
                            new Class<?>[] {handlerClass},
                            (self, method, args) -> {
                                switch (method.getName()) {
                                    case "handle" ->
                                            handler.accept((String) getName.invoke(args[0]));
                                    case "hashCode" -> {
                                        return System.identityHashCode(self);
                                    }
                                    case "equals" -> {
                                        return self == args[0];
                                    }
                                    case "toString" -> {
                                        return "vmrunner signal handler";
                                    }
                                    default -> {}
                                }
                                return null;
                            });
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            for (String name : SignalMeaning.HANDLED) {
                try {
                    handle.invoke(
                            null,
                            signalClass.getConstructor(String.class).newInstance(name),
                            proxy);
                } catch (ReflectiveOperationException e) {
                    // The JVM keeps some signals (USR2 unless the launcher moved its use of it).
                    LOG.fine(() -> "Cannot handle SIG" + name + ": " + e.getCause());
                }
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Failed to install signal handlers: " + e, e);
        }
    }
}
