package dev.vmrunner.cli;

/**
 * The end of {@code vmrunner --help}: the exit codes and what signals do. The man page takes its
 * exit-code table from the same text ({@link ManPage}), so the two cannot drift.
 */
final class HelpFooter {

    private HelpFooter() {}

    static final String TEXT =
            String.join(
                    "\n",
                    "",
                    "Exit codes:",
                    "  0  the guest powered off cleanly (by itself or on SIGTERM/SIGINT),",
                    "     or the VM was stopped before it ran; render/check: all is well",
                    "  2  bad command line, configuration or template; nothing was started",
                    "  3  a process failed to start or died while the VM was starting",
                    "  4  the guest did not power off within vm.powerdownTimeout; QEMU was"
                            + " terminated",
                    "  5  QEMU crashed, was killed or exited with an error while the VM ran",
                    "     (or swtpm ended under it)",
                    "  6  the VM runs already (another runner, or a QEMU left by a killed one);",
                    "     nothing was started, stopped or removed",
                    "  7  status, console, start, stop, reset: no runner runs this VM"
                            + " (console:",
                    "     or it has no console)",
                    "  8  status --ready: the runner answered, but the VM is starting or"
                            + " stopping",
                    "     (a VM stopped on purpose is ready)",
                    "  9  console: another console is attached to this VM",
                    " 10  the guest was migrated to a target runner and runs there now",
                    " 11  --incoming: no guest arrived (the source gave up or disappeared)",
                    " 12  migrate: the migration failed or was refused; the guest runs on",
                    " 13  migrate: the migration was cancelled; the guest runs on",
                    " 14  start, stop, reset: the runner refused (e.g. reset while the VM does"
                            + " not run)",
                    "  1  internal error of the runner",
                    "",
                    "SIGTERM/SIGINT press the guest's power button and wait up to"
                            + " vm.powerdownTimeout",
                    "(from the first signal) before QEMU is terminated. Further signals press the",
                    "button again; they never shorten the wait. SIGHUP re-reads the configuration,",
                    "SIGUSR1/SIGUSR2 log a status line; no signal ends the runner at once.",
                    "",
                    "vm.state: Stopped, 'vmrunner stop' and a guest power-off with"
                            + " guestShutdownStops",
                    "leave the runner up with the VM stopped; 'vmrunner start' or vm.state:"
                            + " Running",
                    "start it again. A command holds until the file's vm.state changes.");
}
