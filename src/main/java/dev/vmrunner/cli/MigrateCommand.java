package dev.vmrunner.cli;

import dev.vmrunner.config.MigrationUri;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.status.ExitCode;
import dev.vmrunner.supervisor.migrate.Requests;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code vmrunner migrate --to tcp:HOST:PORT} and {@code --cancel}: asks the runner of the
 * configuration's VM over its status socket ({@link Requests}) and waits for the answer, which the
 * runner gives when the migration has ended.
 */
final class MigrateCommand {

    /** How long a runner whose guest has left may take to end. */
    private static final Duration RUNNER_END = Duration.ofSeconds(60);

    private MigrateCommand() {}

    static int run(CommonOptions options, String to, boolean cancel, PrintWriter out) {
        if (cancel == (to != null)) {
            System.err.println("vmrunner: migrate needs --to tcp:HOST:PORT or --cancel");
            return ExitCode.CONFIG.code();
        }
        String request;
        try {
            request = cancel ? Requests.CANCEL : Requests.MIGRATE + " " + MigrationUri.parse(to);
        } catch (IllegalArgumentException e) {
            System.err.println("vmrunner: --to: " + e.getMessage());
            return ExitCode.CONFIG.code();
        }
        return Main.withConfig(
                options,
                target -> {
                    Path socket = target.location().runtimeDir().resolve(RuntimeFiles.STATUS);
                    String answer;
                    try {
                        answer = StatusCommand.ask(socket, request);
                    } catch (IOException e) {
                        return StatusCommand.noRunner(target.location(), socket, e);
                    }
                    return answered(answer, socket, out);
                });
    }

    private static int answered(String answer, Path socket, PrintWriter out) {
        if (answer.equals("ok")) {
            out.println("Cancelling the migration; the guest runs on here");
            out.flush();
            return 0;
        }
        if (answer.equals("completed")) {
            boolean ended = awaitEnd(socket);
            out.println(
                    "Migration completed: the guest runs on the target"
                            + (ended ? "" : " (this host's runner has not ended yet)"));
            out.flush();
            return 0;
        }
        if (answer.equals("cancelled")) {
            System.err.println("vmrunner: the migration was cancelled; the guest runs on here");
            return ExitCode.MIGRATION_CANCELLED.code();
        }
        System.err.println("vmrunner: migration " + answer + "; the guest runs on here");
        return ExitCode.MIGRATION_FAILED.code();
    }

    /** The source runner ends once QEMU has: then the target takes the VM over. */
    private static boolean awaitEnd(Path socket) {
        long deadline = System.nanoTime() + RUNNER_END.toNanos();
        while (Files.exists(socket) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !Files.exists(socket);
    }
}
