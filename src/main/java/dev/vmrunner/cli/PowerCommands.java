package dev.vmrunner.cli;

import dev.vmrunner.config.RunnerLocation;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.status.ExitCode;
import dev.vmrunner.supervisor.power.Answer;
import dev.vmrunner.supervisor.power.PowerCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * {@code vmrunner start}, {@code stop [--force]} and {@code reset}: one request line to the runner
 * of the configuration's VM over its status socket, and its answer printed (docs/status.md).
 */
final class PowerCommands {

    private PowerCommands() {}

    static int run(CommonOptions options, PowerCommand command, PrintWriter out) {
        return Main.withConfig(options, target -> ask(target, command, out));
    }

    private static int ask(Main.Target target, PowerCommand command, PrintWriter out) {
        RunnerLocation config = target.location();
        if (target.rejected() != null) {
            StatusCommand.warnRejected(target.rejected(), System.err);
        }
        Path socket = config.runtimeDir().resolve(RuntimeFiles.STATUS);
        String line;
        try {
            line = StatusCommand.ask(socket, command.line());
        } catch (IOException e) {
            return StatusCommand.noRunner(config, socket, e);
        }
        Answer answer = Answer.parse(line);
        if (answer.refused()) {
            System.err.println("vmrunner: " + command.line() + " refused: " + answer.text());
            return ExitCode.REFUSED.code();
        }
        out.println(answer.text());
        out.flush();
        return ExitCode.CLEAN.code();
    }
}
