package dev.vmrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.commons.cli.ParseException;
import org.junit.jupiter.api.Test;

/** {@code vmrunner help [COMMAND]}, the command list and the help of each command. */
class CliTest {

    @Test
    void helpWithoutACommandIsTheOverview() throws ParseException {
        Cli.Parsed parsed = Cli.parse(new String[] {"help"});
        assertTrue(parsed.help());
        assertNull(parsed.command());
        String overview = help(null);
        for (Cli.Command c : Cli.Command.values()) {
            assertTrue(overview.contains("  " + c.label() + " "), c + " missing: " + overview);
            assertTrue(overview.contains(c.summary), c + "'s summary missing: " + overview);
        }
        assertTrue(overview.contains("vmrunner help COMMAND"), overview);
    }

    @Test
    void helpOfACommandIsItsHelpOption() throws ParseException {
        for (Cli.Command c : Cli.Command.values()) {
            Cli.Parsed viaHelp = Cli.parse(new String[] {"help", c.label()});
            Cli.Parsed viaOption = Cli.parse(new String[] {c.label(), "--help"});
            assertEquals(c, viaHelp.command());
            assertTrue(viaHelp.help() && viaOption.help());
            assertEquals(help(viaOption.command()), help(viaHelp.command()));
        }
        assertNull(Cli.parse(new String[] {"help", "help"}).command());
    }

    @Test
    void unknownCommandListsTheCommands() {
        for (String[] args : new String[][] {{"frobnicate"}, {"help", "frobnicate"}}) {
            ParseException e = assertThrows(ParseException.class, () -> Cli.parse(args));
            assertTrue(e.getMessage().contains("Unknown command: frobnicate"), e.getMessage());
            for (String label : Cli.Command.labels()) {
                assertTrue(e.getMessage().contains(label), label + ": " + e.getMessage());
            }
        }
        assertThrows(ParseException.class, () -> Cli.parse(new String[] {"help", "run", "x"}));
    }

    @Test
    void defaultCommandsHelpListsTheCommandsAndExitCodes() {
        String run = help(Cli.Command.RUN);
        assertTrue(run.contains(Cli.commandList().strip()), run);
        assertTrue(run.contains("Exit codes:"), run);
        assertTrue(run.contains("--config"), run);
    }

    @Test
    void everySummaryIsOneShortLine() {
        for (Cli.Command c : Cli.Command.values()) {
            assertTrue(c.summary.length() <= 76 && !c.summary.contains("\n"), c.summary);
        }
    }

    private static String help(Cli.Command command) {
        StringWriter text = new StringWriter();
        Cli.printHelp(command, new PrintWriter(text));
        return text.toString();
    }
}
