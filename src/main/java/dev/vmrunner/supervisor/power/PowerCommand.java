package dev.vmrunner.supervisor.power;

import java.util.Locale;

/**
 * A request to the runner's power control, one line on its status socket (the same words as the
 * command line: {@code vmrunner start}, {@code stop}, {@code stop --force}, {@code reset}).
 */
public sealed interface PowerCommand {

    /** Starts a stopped VM (a fresh start, as the runner's first). */
    record Start() implements PowerCommand {
        @Override
        public String line() {
            return "start";
        }
    }

    /**
     * Stops the VM; the runner stays.
     *
     * @param force the ladder's last rungs at once (SIGTERM to QEMU, SIGKILL after the grace), for
     *     a guest that does not answer the power button
     */
    record Stop(boolean force) implements PowerCommand {
        @Override
        public String line() {
            return force ? "stop --force" : "stop";
        }
    }

    /** Resets the running VM ({@code system_reset}). */
    record Reset() implements PowerCommand {
        @Override
        public String line() {
            return "reset";
        }
    }

    /** The request line. */
    String line();

    /** The command a request line asks for, or null when it is none of them. */
    static PowerCommand parse(String line) {
        return switch (line.strip().toLowerCase(Locale.ROOT)) {
            case "start" -> new Start();
            case "stop" -> new Stop(false);
            case "stop --force" -> new Stop(true);
            case "reset" -> new Reset();
            default -> null;
        };
    }
}
