package dev.vmrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.cli.Option;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * vmrunner(1) says what {@code --help} says: the commands, every option with its description, the
 * exit codes and the signals, read from the help as a user sees it and compared with the page as
 * text. Fails when one of them gains something the other lacks.
 */
class ManPageTest {

    private static final Pattern OPTION = Pattern.compile("(?<![\\w-])--?[a-zA-Z][\\w-]*");
    private static final Pattern EXIT_LINE = Pattern.compile("^ {2}(\\d+) {2}(.*)$");

    @TempDir Path dir;

    private final String page = ManPage.render("0.0.0", "2026-01-01");
    private final String text = plain(page);

    @Test
    void describesEveryCommandAsTheHelpDoes() {
        for (Cli.Command command : Cli.Command.values()) {
            assertContains(command.description, "the description of " + command.label());
            assertTrue(
                    help(null).contains(command.label() + " "),
                    command.label() + " in the overview");
        }
        assertContains(Cli.HELP_SUMMARY, "the help command");
    }

    @Test
    void describesEveryOptionOfTheHelp() {
        for (Cli.Command command : Cli.Command.values()) {
            String help = help(command);
            for (Option option : Cli.options(command).getOptions()) {
                if (option.getLongOpt() != null) {
                    assertTrue(help.contains("--" + option.getLongOpt()), "the help lists it");
                    assertContains("--" + option.getLongOpt(), command.label() + "'s option");
                }
                if (option.getOpt() != null) {
                    assertContains("-" + option.getOpt() + ",", command.label() + "'s option");
                }
                assertContains(option.getDescription(), "the description of " + option.getKey());
            }
        }
    }

    @Test
    void namesNoOptionTheHelpLacks() {
        Set<String> helped = new TreeSet<>();
        for (Cli.Command command : Cli.Command.values()) {
            helped.addAll(options(help(command)));
        }
        for (String name : List.of("SYNOPSIS", "COMMANDS", "OPTIONS", "EXIT STATUS", "SIGNALS")) {
            Set<String> paged = options(section(name));
            paged.removeAll(helped);
            assertEquals(Set.of(), paged, "options in " + name + " that no --help shows");
        }
    }

    @Test
    void hasTheExitCodesOfTheHelp() {
        List<String> codes = new ArrayList<>();
        String current = null;
        for (String line : help(Cli.Command.RUN).split("\n")) {
            Matcher m = EXIT_LINE.matcher(line);
            if (m.matches()) {
                current = m.group(1) + " " + m.group(2).strip();
                codes.add(current);
            } else if (current != null && line.startsWith("     ") && !line.isBlank()) {
                current = current + " " + line.strip();
                codes.set(codes.size() - 1, current);
            } else {
                current = null;
            }
        }
        assertTrue(codes.size() >= 8, "the help's exit codes: " + codes);
        String exitSection = section("EXIT STATUS");
        for (String code : codes) {
            assertTrue(
                    squeeze(exitSection).contains(squeeze(code)),
                    "exit code '" + code + "' in EXIT STATUS:\n" + exitSection);
        }
        assertEquals(codes.size(), ManPage.exitStatuses().size(), "as many codes as the help");
    }

    @Test
    void hasTheSignalsOfTheHelp() {
        String help = help(Cli.Command.RUN);
        String signals = help.substring(help.indexOf("SIGTERM/SIGINT press"));
        assertTrue(squeeze(section("SIGNALS")).contains(squeeze(signals)), signals);
    }

    @Test
    void groffFindsNothingToWarnAbout() throws IOException, InterruptedException {
        Path file = dir.resolve("vmrunner.1");
        Files.writeString(file, page, StandardCharsets.UTF_8);
        ProcessBuilder groff =
                new ProcessBuilder("groff", "-man", "-ww", "-z", file.toString())
                        .redirectErrorStream(true);
        Process p;
        try {
            p = groff.start();
        } catch (IOException e) {
            return; // groff is not installed; lintian checks the page in DebianPackageIT
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals("", out, "groff's warnings");
        assertEquals(0, p.exitValue());
    }

    private void assertContains(String expected, String what) {
        assertFalse(expected.isBlank(), what);
        assertTrue(
                squeeze(text).contains(squeeze(expected)),
                what + " is not in the man page: " + expected);
    }

    private static String help(Cli.Command command) {
        StringWriter out = new StringWriter();
        Cli.printHelp(command, new PrintWriter(out));
        return out.toString();
    }

    private static Set<String> options(String text) {
        Set<String> options = new TreeSet<>();
        Matcher m = OPTION.matcher(text);
        while (m.find()) {
            options.add(m.group());
        }
        return options;
    }

    /** The text of one section of the page, up to the next. */
    private String section(String name) {
        int start = text.indexOf("\n" + name + "\n");
        assertTrue(start >= 0, "section " + name);
        int end = text.indexOf("\n#\n", start + 1);
        return end < 0 ? text.substring(start) : text.substring(start, end);
    }

    /**
     * The page as text: requests dropped (a section heading kept as its own line, after a line
     * "#"), font changes and escapes undone.
     */
    private static String plain(String roff) {
        StringBuilder out = new StringBuilder();
        for (String line : roff.split("\n")) {
            if (line.startsWith(".SH ")) {
                out.append("\n#\n").append(line.substring(4)).append('\n');
            } else if (line.startsWith(".B ")) {
                out.append(line.substring(3)).append(' ');
            } else if (!line.startsWith(".")) {
                out.append(line).append(' ');
            }
        }
        return out.toString()
                .replaceAll("\\\\f[BIR]", "")
                .replace("\\-", "-")
                .replace("\\&", "")
                .replace("\\e", "\\");
    }

    private static String squeeze(String text) {
        return text.replaceAll("\\s+", " ").strip();
    }
}
