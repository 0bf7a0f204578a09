package dev.vmrunner.supervisor;

import java.time.Duration;

/** The supervisor's fixed deadlines, apart from the configured powerdownTimeout. */
public record Timeouts(
        Duration helperStart,
        Duration qmpConnect,
        Duration qmpCommand,
        Duration qmpSlowCommand,
        Duration powerdownRepress,
        Duration killGrace,
        Duration helperStop) {

    public static final Timeouts DEFAULT =
            new Timeouts(
                    Duration.ofSeconds(10), // swtpm creates its socket, the seed image is made
                    Duration.ofSeconds(
                            30), // QEMU opens its QMP socket (slow under TCG on a busy host)
                    Duration.ofSeconds(10), // a QMP reply
                    Duration.ofSeconds(30), // cont, device_add, device_del, a medium change
                    Duration.ofSeconds(5), // pressing the power button again
                    Duration.ofSeconds(5), // SIGTERM -> SIGKILL
                    Duration.ofSeconds(2)); // swtpm ends by itself once QEMU is gone
}
