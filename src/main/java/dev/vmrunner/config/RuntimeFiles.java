package dev.vmrunner.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The names of the files in a VM's runtime directory: the sockets are a contract with templates
 * (docs/templates.md), the pid files one with users and tests. One place for all of them.
 */
public final class RuntimeFiles {

    /** QEMU's QMP monitor; the template makes QEMU listen here. */
    public static final String MONITOR = "monitor.sock";

    /** swtpm's control socket. */
    public static final String SWTPM = "swtpm-sock";

    /** passt's socket, where QEMU connects a {@code passt} interface's network back end. */
    public static final String PASST = "passt.sock";

    /** The guest agent's virtio-serial port, as QEMU's chardev socket. */
    public static final String GUEST_AGENT = "org.qemu.guest_agent.0";

    /** The guest's serial console (ttyS0), a QEMU chardev socket ({@code vmrunner console}). */
    public static final String CONSOLE = "console.sock";

    /** Held by the {@code vmrunner console} that is attached (QEMU serves one client). */
    public static final String CONSOLE_LOCK = "console.lock";

    /** The runner's status socket ({@code vmrunner status}). */
    public static final String STATUS = "status.sock";

    /** What a runner keeps for the runner that may adopt its QEMU. */
    public static final String STATE = "runner-state.json";

    /** The runner's own pid. */
    public static final String RUNNER_PID = "runner.pid";

    /** The cloud-init seed image, made before each start. */
    public static final String SEED_IMAGE = "cloud-init.iso";

    /** Every socket or image the runner or its children put there (besides pid files). */
    public static final List<String> ALL =
            List.of(
                    MONITOR,
                    SWTPM,
                    PASST,
                    GUEST_AGENT,
                    CONSOLE,
                    CONSOLE_LOCK,
                    SEED_IMAGE,
                    STATUS,
                    STATE);

    private RuntimeFiles() {}

    /** The pid file of a child process (its name in the template: qemu, swtpm, ...). */
    public static String pidFile(String process) {
        return process + ".pid";
    }

    public static Path monitor(RunnerConfig config) {
        return config.runtimeDir().resolve(MONITOR);
    }
}
