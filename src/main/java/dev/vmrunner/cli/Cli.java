package dev.vmrunner.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/** The command line: {@code vmrunner [run|render|check] [options]}. */
final class Cli {

    /** The commands; {@code run} is the default. */
    enum Command {
        RUN("Starts, supervises and reconfigures one QEMU virtual machine."),
        RENDER(
                "Prints the commands the VM would be started with, without starting or writing"
                    + " anything: for each process a line '# <name>' (swtpm, cloudInitImg, qemu),"
                    + " then its argv, one argument per line."),
        STATUS(
                "Asks the runner of the configuration's VM what the VM is doing and prints a"
                        + " short table, or JSON with -o json. Exit 0 when a runner answered, 7"
                        + " when none runs this VM, 8 with --ready when the VM is not running."),
        CHECK(
                "Validates the configuration, its template and the executables it needs; starts and"
                    + " writes nothing. Exit 0 when all is well, 2 with the problems otherwise.");

        final String description;

        Command(String description) {
            this.description = description;
        }

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A parsed command line. */
    record Parsed(
            Command command,
            CommonOptions options,
            boolean raw,
            boolean help,
            boolean version,
            String output,
            boolean ready,
            String http) {}

    static final String FOOTER =
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
                    "  1  internal error of the runner",
                    "",
                    "SIGTERM/SIGINT press the guest's power button and wait up to"
                            + " vm.powerdownTimeout",
                    "(from the first signal) before QEMU is terminated. Further signals press the",
                    "button again; they never shorten the wait. SIGHUP re-reads the configuration,",
                    "SIGUSR1/SIGUSR2 log a status line; no signal ends the runner at once.");

    private Cli() {}

    static Parsed parse(String[] args) throws ParseException {
        Command command = Command.RUN;
        String[] rest = args;
        if (args.length > 0 && !args[0].startsWith("-")) {
            command =
                    Arrays.stream(Command.values())
                            .filter(c -> c.label().equals(args[0]))
                            .findFirst()
                            .orElseThrow(
                                    () ->
                                            new ParseException(
                                                    "Unknown command: "
                                                            + args[0]
                                                            + " (commands: run, render, check)"));
            rest = Arrays.copyOfRange(args, 1, args.length);
        }
        CommandLine line = new DefaultParser().parse(options(command), rest);
        if (!line.getArgList().isEmpty()) {
            throw new ParseException("Unexpected argument: " + line.getArgList().get(0));
        }
        String templates = line.getOptionValue("templates-dir");
        CommonOptions common =
                new CommonOptions(
                        Path.of(line.getOptionValue("config", CommonOptions.DEFAULT_CONFIG)),
                        templates == null ? null : Path.of(templates),
                        line.hasOption("verbose"),
                        line.hasOption("quiet"));
        return new Parsed(
                command,
                common,
                line.hasOption("raw"),
                line.hasOption("help"),
                line.hasOption("version"),
                line.getOptionValue("output", "text"),
                line.hasOption("ready"),
                line.getOptionValue("http"));
    }

    static void printHelp(Command command, PrintWriter out) {
        HelpFormatter help = new HelpFormatter();
        help.setOptionComparator(null);
        String syntax =
                command == Command.RUN
                        ? "vmrunner [run|render|check] [options]"
                        : "vmrunner " + command.label() + " [options]";
        help.printHelp(
                out,
                88,
                syntax,
                command.description + "\n\n",
                options(command),
                2,
                4,
                command == Command.RUN ? FOOTER : "",
                false);
        out.flush();
    }

    private static Options options(Command command) {
        Options options =
                new Options()
                        .addOption(
                                Option.builder("c")
                                        .longOpt("config")
                                        .hasArg()
                                        .argName("FILE")
                                        .desc(
                                                "Configuration file (default: "
                                                        + CommonOptions.DEFAULT_CONFIG
                                                        + ").")
                                        .build())
                        .addOption(
                                Option.builder()
                                        .longOpt("templates-dir")
                                        .hasArg()
                                        .argName("DIR")
                                        .desc(
                                                "Where the configuration's template is looked up"
                                                        + " (default: $VMRUNNER_TEMPLATES, else"
                                                        + " /opt/vmrunner/templates; the standard"
                                                        + " template is built in).")
                                        .build());
        if (command == Command.RUN) {
            options.addOption(
                    Option.builder()
                            .longOpt("http")
                            .hasArg()
                            .argName("[ADDR:]PORT")
                            .desc(
                                    "Serve /healthz, /readyz, /status and /metrics over HTTP once"
                                            + " QEMU is started (default address 127.0.0.1; in a"
                                            + " pod 0.0.0.0:PORT). Overrides the http key.")
                            .build());
        }
        if (command == Command.RENDER) {
            options.addOption(null, "raw", false, "Print the template's YAML output instead.");
        }
        if (command == Command.STATUS) {
            options.addOption(
                            Option.builder("o")
                                    .longOpt("output")
                                    .hasArg()
                                    .argName("text|json")
                                    .desc("Output format (default: text).")
                                    .build())
                    .addOption(
                            null,
                            "ready",
                            false,
                            "Exit 8 unless the VM is running (for readiness probes).");
        }
        return options.addOption("v", "verbose", false, "Log debug details, QMP traffic included.")
                .addOption("q", "quiet", false, "Log warnings and errors only.")
                .addOption("h", "help", false, "Show this help and exit.")
                .addOption("V", "version", false, "Print version information and exit.");
    }
}
