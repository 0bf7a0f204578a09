package dev.vmrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
 * The shipped bash completion knows exactly the commands and options {@link Cli} knows, and bash
 * completes with it as a user would see it.
 */
class CompletionScriptTest {

    static final Path SCRIPT = Path.of("deploy/completion/vmrunner.bash").toAbsolutePath();

    private static final Pattern LIST = Pattern.compile("(?m)^(_vmrunner_\\w+)=\"([^\"]*)\"$");

    @TempDir Path dir;

    @Test
    void listsEveryCommand() throws IOException {
        assertEquals(
                new TreeSet<>(Cli.Command.labels()),
                list("_vmrunner_commands"),
                "the commands in " + SCRIPT);
    }

    @Test
    void listsEveryOptionOfEveryCommand() throws IOException {
        for (Cli.Command command : Cli.Command.values()) {
            Set<String> expected = new TreeSet<>();
            for (Option option : Cli.options(command).getOptions()) {
                expected.addAll(spellings(option));
            }
            assertEquals(
                    expected,
                    list("_vmrunner_opts_" + command.label()),
                    "the options of " + command.label() + " in " + SCRIPT);
        }
    }

    @Test
    void knowsWhichOptionsTakeAValue() throws IOException {
        Set<String> expected = new TreeSet<>();
        for (Cli.Command command : Cli.Command.values()) {
            for (Option option : Cli.options(command).getOptions()) {
                if (option.hasArg()) {
                    expected.addAll(spellings(option));
                }
            }
        }
        assertEquals(expected, list("_vmrunner_valued"), "the options with a value in " + SCRIPT);
    }

    @Test
    void completesCommandsFirst() throws Exception {
        assertEquals(new TreeSet<>(Cli.Command.labels()), new TreeSet<>(complete("vmrunner", "")));
        assertEquals(List.of("render", "reset", "run"), complete("vmrunner", "r"));
        assertEquals(List.of("check"), complete("vmrunner", "help", "ch"));
    }

    @Test
    void completesTheOptionsOfTheCommand() throws Exception {
        List<String> check = complete("vmrunner", "check", "--");
        assertTrue(check.contains("--config") && check.contains("--templates-dir"), "" + check);
        assertFalse(check.contains("--raw"), "render's option offered for check: " + check);
        assertTrue(complete("vmrunner", "render", "--r").contains("--raw"));
        assertTrue(complete("vmrunner", "stop", "--f").contains("--force"));
        assertTrue(complete("vmrunner", "-c", "x.yaml", "--v").contains("--verbose"));
    }

    @Test
    void completesFilesDirectoriesAndFormats() throws Exception {
        Files.writeString(dir.resolve("vm.yaml"), "");
        Files.createDirectory(dir.resolve("templates"));
        String prefix = dir + "/";
        assertEquals(
                List.of(prefix + "templates", prefix + "vm.yaml"),
                complete("vmrunner", "check", "-c", prefix));
        assertEquals(
                List.of(prefix + "vm.yaml"), complete("vmrunner", "--config", "=", prefix + "v"));
        assertEquals(
                List.of(prefix + "templates"), complete("vmrunner", "--templates-dir", prefix));
        assertEquals(List.of("text", "json"), complete("vmrunner", "status", "-o", ""));
    }

    private static List<String> spellings(Option option) {
        List<String> names = new ArrayList<>();
        if (option.getOpt() != null) {
            names.add("-" + option.getOpt());
        }
        if (option.getLongOpt() != null) {
            names.add("--" + option.getLongOpt());
        }
        return names;
    }

    private static Set<String> list(String variable) throws IOException {
        Matcher m = LIST.matcher(Files.readString(SCRIPT));
        while (m.find()) {
            if (m.group(1).equals(variable)) {
                return new TreeSet<>(Arrays.asList(m.group(2).strip().split("\\s+")));
            }
        }
        throw new AssertionError(variable + " is not set in " + SCRIPT);
    }

    /** What bash offers for the last of {@code words}, sorted as compgen gives it. */
    private static List<String> complete(String... words) throws Exception {
        List<String> command =
                new ArrayList<>(
                        List.of(
                                "bash",
                                "--norc",
                                "-c",
                                "source \"$1\"; shift; COMP_WORDS=(\"$@\");"
                                        + " COMP_CWORD=$(($# - 1)); _vmrunner;"
                                        + " printf '%s\\n' \"${COMPREPLY[@]}\"",
                                "bash",
                                SCRIPT.toString()));
        command.addAll(List.of(words));
        Process bash = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bash.waitFor(30, TimeUnit.SECONDS), "bash hung");
        assertEquals(0, bash.exitValue(), out);
        List<String> lines = new ArrayList<>(out.lines().filter(l -> !l.isEmpty()).toList());
        if (!lines.equals(List.of("text", "json"))) {
            lines.sort(null);
        }
        return lines;
    }
}
