package dev.vmrunner.supervisor.migrate;

import dev.vmrunner.config.Migration;
import dev.vmrunner.config.MigrationUri;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The status socket's migration requests, answered on the client's thread (never the loop's):
 *
 * <ul>
 *   <li>{@code migrate tcp:HOST:PORT}: starts a migration and answers when it has ended: {@code
 *       completed}, {@code failed: WHY}, {@code cancelled} or {@code refused: WHY}.
 *   <li>{@code migrate-cancel}: {@code ok}, or {@code error: no migration runs}.
 * </ul>
 */
public final class Requests {

    public static final String MIGRATE = "migrate";
    public static final String CANCEL = "migrate-cancel";

    private static final Duration QUICK = Duration.ofSeconds(10);

    private Requests() {}

    /**
     * The answer to {@code line}, or null when it is no migration request.
     *
     * @param onLoop runs an action on the supervisor's loop
     */
    public static String answer(
            String line, Outgoing outgoing, Migration settings, Consumer<Runnable> onLoop) {
        if (line.equals(CANCEL)) {
            CompletableFuture<String> answer = new CompletableFuture<>();
            onLoop.accept(() -> answer.complete(outgoing.cancel("asked by vmrunner migrate")));
            return await(answer, QUICK);
        }
        if (!line.startsWith(MIGRATE + " ")) {
            return null;
        }
        MigrationUri to;
        try {
            to = MigrationUri.parse(line.substring(MIGRATE.length() + 1));
        } catch (IllegalArgumentException e) {
            return "refused: " + e.getMessage();
        }
        CompletableFuture<String> answer = new CompletableFuture<>();
        onLoop.accept(
                () -> {
                    var unused = outgoing.start(to).whenComplete((a, e) -> answer.complete(a));
                });
        // The runner gives up at the deadline; the margin covers the cancel and the last poll.
        return await(answer, settings.deadline().plus(Duration.ofMinutes(1)));
    }

    private static String await(CompletableFuture<String> answer, Duration timeout) {
        try {
            return answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "error: interrupted";
        } catch (ExecutionException | TimeoutException e) {
            return "error: the runner did not answer (" + e + ")";
        }
    }
}
