package dev.vmrunner.cli;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.function.Consumer;

/**
 * Routes SIGTERM and SIGINT to the supervisor instead of the JVM's shutdown: a stop must be a guest
 * powerdown, which takes time, and the exit code must tell how it went. {@code sun.misc.Signal}
 * (module jdk.unsupported, present in every JDK since 9) is the only way to do this in Java. It is
 * reached reflectively because javac's warning about it cannot be suppressed and the build treats
 * warnings as errors.
 */
final class Signals {

    private Signals() {}

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
            for (String name : new String[] {"TERM", "INT"}) {
                handle.invoke(
                        null, signalClass.getConstructor(String.class).newInstance(name), proxy);
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Failed to install signal handlers: " + e, e);
        }
    }
}
