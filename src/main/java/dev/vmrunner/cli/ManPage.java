package dev.vmrunner.cli;

import dev.vmrunner.launch.TemplateSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.Option;

/**
 * Writes the manual page vmrunner(1) in roff from what {@code --help} prints: the commands of
 * {@link Cli.Command}, the options of {@link Cli#options}, the exit codes and signals of {@link
 * HelpFooter#TEXT}. Run by the build ({@code prepare-package}), so the page and the help cannot
 * drift; ManPageTest compares them. Not on the start path.
 */
public final class ManPage {

    /** One exit code of the help's table: the code and its meaning as one line. */
    record ExitStatus(String code, String meaning) {}

    private ManPage() {}

    /** {@code ManPage OUTPUT VERSION DATE}: writes the page to OUTPUT. */
    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: ManPage OUTPUT VERSION DATE");
        }
        Path out = Path.of(args[0]);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, render(args[1], args[2]), StandardCharsets.UTF_8);
    }

    static String render(String version, String date) {
        Roff man = new Roff();
        man.line(".TH VMRUNNER 1 \"" + date + "\" \"vmrunner " + version + "\" \"User Commands\"");
        // No hyphenation or justification: option names and paths stay whole.
        man.line(".nh");
        man.line(".ad l");
        man.section("NAME");
        man.text("vmrunner - " + lowerFirst(stripPeriod(Cli.Command.RUN.description)));
        man.section("SYNOPSIS");
        for (Cli.Command command : Cli.Command.values()) {
            man.line(".SY vmrunner");
            if (command != Cli.Command.RUN) {
                man.line(".B " + command.label());
            }
            for (Option option : Cli.options(command).getOptions()) {
                man.line("[\\fB" + Roff.escape(spelling(option)) + "\\fR" + argument(option) + "]");
            }
            man.line(".YS");
        }
        man.line(".SY vmrunner");
        man.line(".B " + Cli.HELP);
        man.line(".RI [ COMMAND ]");
        man.line(".YS");
        man.section("DESCRIPTION");
        man.text(Cli.Command.RUN.description);
        man.text(
                "The configuration is a YAML file, described in vmrunner.yaml(5). Without a"
                    + " command, vmrunner runs the VM and stays in the foreground until the guest"
                    + " has powered off.");
        man.section("COMMANDS");
        for (Cli.Command command : Cli.Command.values()) {
            man.tagged("\\fB" + command.label() + "\\fR", command.description);
        }
        man.tagged("\\fB" + Cli.HELP + "\\fR [\\fICOMMAND\\fR]", Cli.HELP_SUMMARY + ".");
        man.section("OPTIONS");
        for (Map.Entry<String, List<Cli.Command>> entry : optionCommands().entrySet()) {
            Option option = Cli.options(entry.getValue().get(0)).getOption(entry.getKey());
            String tag = "\\fB" + Roff.escape(spellings(option)) + "\\fR" + argument(option);
            String only =
                    entry.getValue().size() == Cli.Command.values().length
                            ? ""
                            : " (" + labels(entry.getValue()) + ")";
            man.tagged(tag, option.getDescription() + only);
        }
        man.section("EXIT STATUS");
        for (ExitStatus status : exitStatuses()) {
            man.tagged("\\fB" + status.code() + "\\fR", status.meaning());
        }
        man.section("SIGNALS");
        man.text(signals());
        man.section("ENVIRONMENT");
        man.tagged(
                "\\fBVMRUNNER_TEMPLATES\\fR",
                "The templates directory when --templates-dir is not given (default "
                        + TemplateSource.DEFAULT_DIR
                        + ").");
        man.tagged(
                "\\fB" + LogFormat.ENV + "\\fR",
                "The log format (text or json) when --log-format is not given.");
        man.tagged("\\fBVMRUNNER_JAVA_OPTS\\fR", "More options for the Java virtual machine.");
        man.tagged(
                "\\fBVMRUNNER_PRESTART\\fR",
                "1: the launcher may start QEMU while the Java virtual machine boots (the"
                        + " overlapped start, from the command line cached below"
                        + " XDG_CACHE_HOME, else HOME/.cache, at the VM's last start). Off by"
                        + " default: on a machine with two cores it was slower than the ordinary"
                        + " start (bench/RESULTS.md).");
        man.tagged("\\fBJAVA_HOME\\fR", "The Java runtime to use; else java on the PATH.");
        man.tagged("\\fBTZ\\fR", "The time zone of log times (default UTC).");
        man.tagged(
                "\\fBXDG_DATA_HOME\\fR, \\fBXDG_RUNTIME_DIR\\fR",
                "Below them the default data and runtime directories of a VM (see"
                        + " vmrunner.yaml(5), dataDir and runtimeDir).");
        man.tagged(
                "\\fBNOTIFY_SOCKET\\fR",
                "Set by systemd for Type=notify units: the runner reports readiness and its state"
                        + " through systemd-notify.");
        man.section("FILES");
        man.tagged("\\fI" + CommonOptions.DEFAULT_CONFIG + "\\fR", "The default configuration.");
        man.tagged(
                "\\fI/lib/systemd/system/vmrunner@.service\\fR",
                "Runs the VM configured in /etc/opt/vmrunner/INSTANCE.yaml: systemctl enable --now"
                        + " vmrunner@INSTANCE.");
        man.tagged(
                "\\fI/usr/share/doc/vmrunner/examples/\\fR",
                "Example configurations and the built-in template.");
        man.section("SEE ALSO");
        man.text(
                "vmrunner.yaml(5), qemu-system-x86_64(1), swtpm(8), systemctl(1); the README and"
                        + " docs in /usr/share/doc/vmrunner.");
        return man.toString();
    }

    /**
     * The exit codes of the help's table ({@link HelpFooter#TEXT}, "Exit codes:" up to the first
     * empty line; a line " N meaning" starts a code, deeper indented lines continue it). The one
     * place the page reads them from.
     */
    static List<ExitStatus> exitStatuses() {
        List<ExitStatus> statuses = new ArrayList<>();
        boolean inTable = false;
        for (String line : HelpFooter.TEXT.split("\n", -1)) {
            if (line.equals("Exit codes:")) {
                inTable = true;
            } else if (inTable && line.isBlank()) {
                break;
            } else if (inTable && line.matches(" {2}\\d+ {2}.*")) {
                String[] parts = line.strip().split(" {2}", 2);
                statuses.add(new ExitStatus(parts[0], parts[1].strip()));
            } else if (inTable && !statuses.isEmpty()) {
                ExitStatus last = statuses.remove(statuses.size() - 1);
                statuses.add(new ExitStatus(last.code(), last.meaning() + " " + line.strip()));
            }
        }
        return statuses;
    }

    /** The help's paragraph on signals: the footer after the exit-code table. */
    static String signals() {
        String footer = HelpFooter.TEXT.strip();
        int end = footer.indexOf("\n\n");
        return String.join(" ", footer.substring(end + 2).split("\n"));
    }

    /** Every option's long (or short) name, with the commands that take it, in help order. */
    static Map<String, List<Cli.Command>> optionCommands() {
        Map<String, List<Cli.Command>> options = new LinkedHashMap<>();
        for (Cli.Command command : Cli.Command.values()) {
            for (Option option : Cli.options(command).getOptions()) {
                options.computeIfAbsent(option.getKey(), k -> new ArrayList<>()).add(command);
            }
        }
        return options;
    }

    private static String labels(List<Cli.Command> commands) {
        List<String> labels = new ArrayList<>();
        for (Cli.Command command : commands) {
            labels.add(command.label());
        }
        return String.join(", ", labels) + " only";
    }

    private static String spelling(Option option) {
        return option.getLongOpt() != null ? "--" + option.getLongOpt() : "-" + option.getOpt();
    }

    private static String spellings(Option option) {
        if (option.getOpt() != null && option.getLongOpt() != null) {
            return "-" + option.getOpt() + ", --" + option.getLongOpt();
        }
        return spelling(option);
    }

    private static String argument(Option option) {
        return option.hasArg() ? " \\fI" + Roff.escape(option.getArgName()) + "\\fR" : "";
    }

    private static String stripPeriod(String text) {
        return text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
    }

    private static String lowerFirst(String text) {
        return text.substring(0, 1).toLowerCase(Locale.ROOT) + text.substring(1);
    }
}
