package dev.vmrunner.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/** The command line: {@code vmrunner [COMMAND] [options]} and {@code vmrunner help [COMMAND]}. */
final class Cli {

    /**
     * The commands; {@code run} is the default. Adding one is an entry here (its help, the command
     * list and the completion test follow), its options in {@link #options} and its case in {@link
     * Main}.
     */
    enum Command {
        RUN(
                "Runs the VM described by the configuration (the default command)",
                "Starts, supervises and reconfigures one QEMU virtual machine."),
        RENDER(
                "Prints the commands the VM would be started with; starts nothing",
                "Prints the commands the VM would be started with, without starting or writing"
                    + " anything: for each process a line '# <name>' (swtpm, cloudInitImg, passt,"
                    + " qemu), then its argv, one argument per line."),
        STATUS(
                "Asks the runner of the VM what the VM is doing",
                "Asks the runner of the configuration's VM what the VM is doing and prints a"
                        + " short table, or JSON with -o json. Exit 0 when a runner answered, 7"
                        + " when none runs this VM, 8 with --ready when the VM is neither running"
                        + " nor stopped on purpose (starting, stopping)."),
        CONSOLE(
                "Attaches to the guest's serial console",
                "Attaches to the guest's serial console (${runtimeDir}/console.sock). On a terminal"
                        + " the terminal is raw and Ctrl-] detaches; with pipes, input is copied to"
                        + " the guest and what it prints until it has been quiet for 1.5 s after"
                        + " the input ended. Exit 7 when the VM has no console, 9 when another"
                        + " 'vmrunner console' is attached (QEMU serves one at a time)."),
        MIGRATE(
                "Moves the running guest to a target runner (live migration)",
                "Asks the runner of the configuration's VM to migrate the running guest to a target"
                        + " runner started with --incoming (same VM, shared data directory and"
                        + " disks) and waits until it has ended. Exit 0 once the target has the"
                        + " guest and this runner has ended, 12 when the migration failed or was"
                        + " refused, 13 when it was cancelled (the guest runs on here either way),"
                        + " 7 when no runner runs this VM. --cancel cancels a running migration."),
        CHECK(
                "Validates the configuration, its template, files and host; starts nothing",
                "Validates the configuration, its template, the executables, disk and ISO files and"
                        + " bridges it needs; starts and writes nothing. Exit 0 when all is well"
                        + " (warnings are printed), 2 with the problems otherwise."),
        START(
                "Starts the VM that its runner keeps stopped",
                "Asks the runner of the configuration's VM to start it: a fresh start with the"
                        + " configuration of now (TPM, NVRAM and cloud-init as on a first start)."
                        + " The VM then runs until stopped, even if vm.state says Stopped, until"
                        + " vm.state is edited. A VM that is starting or running is left as it is;"
                        + " one that is stopping starts again once stopped. Exit 0 when the start"
                        + " began (or the VM runs already), 7 when no runner runs this VM, 14 when"
                        + " the runner refused (the text says why)."),
        STOP(
                "Powers the VM down; its runner stays",
                "Asks the runner of the configuration's VM to power it down as on SIGTERM (the"
                        + " power button, then QEMU is terminated after vm.powerdownTimeout), but"
                        + " the runner stays up with the VM stopped, until 'vmrunner start' or an"
                        + " edit of vm.state. A VM that is still starting is stopped at once (no"
                        + " guest data is at stake). --force terminates QEMU at once (SIGKILL after"
                        + " 5 s), for a guest that does not answer the power button. Exit 0 when"
                        + " the stop began (or the VM is stopped already), 7 when no runner runs"
                        + " this VM, 14 when the runner refused."),
        RESET(
                "Resets the running VM (like its reset button)",
                "Asks the runner of the configuration's VM to reset it (QMP system_reset): the"
                    + " guest reboots at once, without shutting down. Exit 0 when QEMU reset it, 7"
                    + " when no runner runs this VM, 14 when the VM is not running (starting,"
                    + " stopping or stopped).");

        final String summary;
        final String description;

        Command(String summary, String description) {
            this.summary = summary;
            this.description = description;
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Command of(String label) throws ParseException {
            for (Command c : values()) {
                if (c.label().equals(label)) {
                    return c;
                }
            }
            throw new ParseException(
                    "Unknown command: "
                            + label
                            + " (commands: "
                            + String.join(", ", labels())
                            + ")");
        }

        /** The commands' names, {@code help} included. */
        static List<String> labels() {
            List<String> labels = new ArrayList<>();
            for (Command c : values()) {
                labels.add(c.label());
            }
            labels.add(HELP);
            return labels;
        }
    }

    /** {@code vmrunner help [COMMAND]}: a pseudo-command that prints help. */
    static final String HELP = "help";

    static final String HELP_SUMMARY = "Lists the commands, or shows one command's help";

    /** A parsed command line. */
    record Parsed(
            Command command,
            CommonOptions options,
            boolean raw,
            boolean help,
            boolean version,
            String output,
            boolean ready,
            String http,
            String incoming,
            String to,
            boolean cancel,
            boolean force) {}

    private static final int WIDTH = 88;

    private static final String MORE =
            "'vmrunner help COMMAND' or 'vmrunner COMMAND --help' shows a command's options.";

    private Cli() {}

    static Parsed parse(String[] args) throws ParseException {
        if (args.length > 0 && args[0].equals(HELP)) {
            return helpRequest(args);
        }
        Command command = Command.RUN;
        String[] rest = args;
        if (args.length > 0 && !args[0].startsWith("-")) {
            command = Command.of(args[0]);
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
                        line.hasOption("quiet"),
                        logFormat(line.getOptionValue("log-format")));
        return new Parsed(
                command,
                common,
                line.hasOption("raw"),
                line.hasOption("help"),
                line.hasOption("version"),
                line.getOptionValue("output", "text"),
                line.hasOption("ready"),
                line.getOptionValue("http"),
                line.getOptionValue("incoming"),
                line.getOptionValue("to"),
                line.hasOption("cancel"),
                line.hasOption("force"));
    }

    /** {@code --log-format}, else {@code $VMRUNNER_LOG_FORMAT}, else text. */
    private static LogFormat logFormat(String option) throws ParseException {
        String env = System.getenv(LogFormat.ENV);
        String name = option != null ? option : env == null || env.isBlank() ? "text" : env;
        LogFormat format = LogFormat.of(name);
        if (format == null) {
            throw new ParseException(
                    (option != null ? "--log-format" : LogFormat.ENV)
                            + ": unknown log format '"
                            + name
                            + "' (expected text or json)");
        }
        return format;
    }

    /**
     * {@code vmrunner help [COMMAND]}: the command's help, or with no (or the {@code help}) command
     * the overview (command {@code null}).
     */
    private static Parsed helpRequest(String[] args) throws ParseException {
        if (args.length > 2) {
            throw new ParseException(
                    "Unexpected argument: " + args[2] + " (usage: vmrunner help [COMMAND])");
        }
        Command command = args.length == 1 || args[1].equals(HELP) ? null : Command.of(args[1]);
        CommonOptions defaults =
                new CommonOptions(
                        Path.of(CommonOptions.DEFAULT_CONFIG), null, false, false, LogFormat.TEXT);
        return new Parsed(
                command, defaults, false, true, false, "text", false, null, null, null, false,
                false);
    }

    /** A command's help ({@code vmrunner COMMAND --help}), or the overview if it is null. */
    static void printHelp(Command command, PrintWriter out) {
        if (command == null) {
            printOverview(out);
            return;
        }
        HelpFormatter help = new HelpFormatter();
        help.setOptionComparator(null);
        String syntax =
                command == Command.RUN
                        ? "vmrunner [COMMAND] [options]"
                        : "vmrunner " + command.label() + " [options]";
        help.printHelp(
                out,
                WIDTH,
                syntax,
                command.description + "\n\n",
                options(command),
                2,
                4,
                command == Command.RUN
                        ? "\n" + commandList() + "\n" + MORE + "\n" + HelpFooter.TEXT
                        : "\n" + MORE,
                false);
        out.flush();
    }

    private static void printOverview(PrintWriter out) {
        out.println("usage: vmrunner [COMMAND] [options]");
        out.println();
        out.println(Command.RUN.description);
        out.println();
        out.print(commandList());
        out.println();
        out.println(MORE);
        out.flush();
    }

    /** One line per command: its name and summary. */
    static String commandList() {
        StringBuilder list = new StringBuilder("Commands:\n");
        for (Command c : Command.values()) {
            list.append(String.format("  %-8s %s%n", c.label(), c.summary));
        }
        list.append(String.format("  %-8s %s%n", HELP, HELP_SUMMARY));
        return list.toString();
    }

    static Options options(Command command) {
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
            options.addOption(
                    Option.builder()
                            .longOpt("incoming")
                            .hasArg()
                            .argName("tcp:ADDR:PORT")
                            .desc(
                                    "Be the target of a live migration: start swtpm and QEMU"
                                        + " waiting for the guest on ADDR:PORT, take the VM over"
                                        + " once it has arrived and the source runner has ended."
                                        + " Overrides the incoming key.")
                            .build());
        }
        if (command == Command.MIGRATE) {
            options.addOption(
                            Option.builder()
                                    .longOpt("to")
                                    .hasArg()
                                    .argName("tcp:HOST:PORT")
                                    .desc("Where the target runner waits (its --incoming).")
                                    .build())
                    .addOption(null, "cancel", false, "Cancel the running migration.");
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
                            "Exit 8 unless the VM is running or stopped on purpose (for readiness"
                                    + " probes).");
        }
        if (command == Command.STOP) {
            options.addOption(
                    null,
                    "force",
                    false,
                    "Terminate QEMU at once, without waiting for the guest (a hung guest).");
        }
        return options.addOption("v", "verbose", false, "Log debug details, QMP traffic included.")
                .addOption("q", "quiet", false, "Log warnings and errors only.")
                .addOption(
                        Option.builder()
                                .longOpt("log-format")
                                .hasArg()
                                .argName("text|json")
                                .desc(
                                        "Log lines for people (default) or JSON objects, one per"
                                                + " line, for log pipelines (default: $"
                                                + LogFormat.ENV
                                                + ", else text).")
                                .build())
                .addOption("h", "help", false, "Show this help and exit.")
                .addOption("V", "version", false, "Print version information and exit.");
    }
}
