package dev.vmrunner.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.vmrunner.config.ConfigException;
import dev.vmrunner.config.RunnerLocation;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.config.Sizes;
import dev.vmrunner.status.ExitCode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code vmrunner status}: asks the runner of the configuration's VM over its status socket and
 * prints a short table or the JSON (docs/status.md).
 */
final class StatusCommand {

    private static final int MAX_ANSWER = 1 << 20;

    private StatusCommand() {}

    static int run(CommonOptions options, String output, boolean ready, PrintWriter out) {
        return Main.withConfig(options, config -> run(config, output, ready, out));
    }

    private static int run(Main.Target target, String output, boolean ready, PrintWriter out) {
        RunnerLocation config = target.location();
        Path socket = config.runtimeDir().resolve(RuntimeFiles.STATUS);
        String answer;
        try {
            answer = ask(socket, "status");
        } catch (IOException e) {
            if (target.rejected() != null) {
                warnRejected(target.rejected(), System.err);
            }
            return noRunner(config, socket, e);
        }
        JsonObject status = JsonParser.parseString(answer).getAsJsonObject();
        if ("json".equals(output)) {
            if (target.rejected() != null) {
                status.add("configFile", rejection(target.rejected()));
                answer = status.toString();
            }
            out.println(answer);
        } else {
            text(status, out);
            if (target.rejected() != null) {
                rejected(target.rejected(), out);
            }
        }
        out.flush();
        return ready && !ready(status) ? ExitCode.NOT_READY.code() : 0;
    }

    /** Running, or stopped on purpose; a runner older than {@code ready} says running only. */
    private static boolean ready(JsonObject status) {
        JsonElement ready = status.get("ready");
        return ready != null && !ready.isJsonNull()
                ? ready.getAsBoolean()
                : "running".equals(status.get("state").getAsString());
    }

    /** Nothing answers on the runner's socket: said on standard error, exit 7. */
    static int noRunner(RunnerLocation config, Path socket, IOException e) {
        System.err.println(
                "vmrunner: no vmrunner is running VM "
                        + config.name()
                        + " (nothing answers on "
                        + socket
                        + ": "
                        + e.getMessage()
                        + ")");
        return ExitCode.NOT_RUNNING.code();
    }

    /** The file on disk, which the runner would refuse: it runs on with its last good one. */
    private static JsonObject rejection(ConfigException rejected) {
        JsonObject file = new JsonObject();
        file.addProperty("valid", false);
        JsonArray problems = new JsonArray();
        rejected.problems().forEach(problems::add);
        file.add("problems", problems);
        return file;
    }

    private static void rejected(ConfigException rejected, PrintWriter out) {
        List<String[]> rows = new ArrayList<>();
        rows.add(row("Config file", "rejected (the runner keeps its last good configuration):"));
        rejected.problems().forEach(p -> rows.add(row("", p)));
        print(rows, out);
    }

    /** For the commands that go on although the file is invalid: why, on standard error. */
    static void warnRejected(ConfigException rejected, PrintStream err) {
        err.println(
                "vmrunner: warning: the configuration file is invalid (a runner keeps its last"
                        + " good configuration):");
        rejected.problems().forEach(p -> err.println("  " + p));
    }

    /** One request, one answer line, over a fresh connection. */
    static String ask(Path socket, String request) throws IOException {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            channel.write(StandardCharsets.US_ASCII.encode(request + "\n"));
            channel.shutdownOutput();
            ByteBuffer in = ByteBuffer.allocate(64 << 10);
            StringBuilder answer = new StringBuilder();
            while (channel.read(in) >= 0 && answer.length() < MAX_ANSWER) {
                in.flip();
                answer.append(StandardCharsets.UTF_8.decode(in));
                in.clear();
            }
            String text = answer.toString().strip();
            if (text.isEmpty()) {
                throw new IOException("the runner closed the connection without an answer");
            }
            return text;
        }
    }

    private static void text(JsonObject s, PrintWriter out) {
        List<String[]> rows = new ArrayList<>();
        rows.add(row("VM", s.get("name").getAsString()));
        String state = s.get("state").getAsString() + " since " + str(s, "since");
        if (s.get("adopted").getAsBoolean()) {
            state += " (adopted " + str(s, "adoptedAt") + ")";
        }
        String desired = str(s, "desiredState");
        if ("stopped".equals(desired)) {
            state += " (meant to be stopped: 'vmrunner start' or vm.state: Running starts it)";
        } else if ("stopped".equals(s.get("state").getAsString()) && "running".equals(desired)) {
            state += " (meant to run)";
        }
        rows.add(row("State", state));
        rows.add(row("QEMU", "pid " + str(s.getAsJsonObject("qemu"), "pid")));
        JsonObject ram = s.getAsJsonObject("ram");
        rows.add(
                row(
                        "RAM",
                        size(ram.get("actual"))
                                + " (target "
                                + size(ram.get("target"))
                                + ", maximum "
                                + size(ram.get("maximum"))
                                + ")"));
        JsonObject cpus = s.getAsJsonObject("cpus");
        rows.add(
                row(
                        "vCPUs",
                        str(cpus, "present")
                                + " (target "
                                + str(cpus, "target")
                                + ", maximum "
                                + str(cpus, "maximum")
                                + ")"));
        for (JsonElement e : s.getAsJsonArray("drives")) {
            JsonObject d = e.getAsJsonObject();
            String medium = d.get("medium").isJsonNull() ? "empty" : str(d, "medium");
            String pending = d.get("pending").isJsonNull() ? "" : "; pending: " + str(d, "pending");
            rows.add(
                    row(
                            d.get("id").getAsString(),
                            medium + (d.get("locked").getAsBoolean() ? ", locked" : "") + pending));
        }
        list(rows, "Pending", s.getAsJsonArray("pending"));
        list(rows, "Needs restart", s.getAsJsonArray("needsRestart"));
        if (!s.get("powerdownDeadline").isJsonNull()) {
            rows.add(row("Powerdown", "QEMU is terminated at " + str(s, "powerdownDeadline")));
        }
        if (!s.get("lastError").isJsonNull()) {
            rows.add(row("Last error", str(s, "lastError")));
        }
        if (s.has("guest")) {
            JsonObject g = s.getAsJsonObject("guest");
            rows.add(
                    row(
                            "Guest",
                            (g.get("booted").getAsBoolean() ? "booted " + str(g, "bootedAt") : "")
                                    + "; "
                                    + str(g, "os")
                                    + "; host "
                                    + str(g, "hostName")
                                    + "; "
                                    + String.join(", ", strings(g.getAsJsonArray("addresses")))));
            JsonElement misbehaving = g.get("agentMisbehaving");
            if (misbehaving != null && !misbehaving.isJsonNull()) {
                rows.add(row("Guest agent", "misbehaving: " + misbehaving.getAsString()));
            }
        }
        if (s.has("display")) {
            JsonObject d = s.getAsJsonObject("display");
            rows.add(
                    row(
                            "Display",
                            (d.get("passwordSet").getAsBoolean()
                                            ? "password set (expiry "
                                                    + str(d, "passwordExpiry")
                                                    + ")"
                                            : "no password")
                                    + (d.get("clients").isJsonNull()
                                            ? ""
                                            : "; " + str(d, "clients") + " client(s)")));
        }
        if (s.has("rejectedEdit") && !s.get("rejectedEdit").isJsonNull()) {
            JsonObject r = s.getAsJsonObject("rejectedEdit");
            list(rows, "Rejected edit", r.getAsJsonArray("problems"));
        }
        print(rows, out);
    }

    private static void print(List<String[]> rows, PrintWriter out) {
        for (String[] r : rows) {
            out.printf("%-14s %s%n", r[0], r[1]);
        }
    }

    private static void list(List<String[]> rows, String label, JsonArray values) {
        for (String value : strings(values)) {
            rows.add(row(label, value));
            label = "";
        }
    }

    private static List<String> strings(JsonArray values) {
        List<String> list = new ArrayList<>();
        values.forEach(v -> list.add(v.getAsString()));
        return list;
    }

    private static String[] row(String label, String value) {
        return new String[] {label, value};
    }

    private static String str(JsonObject o, String member) {
        JsonElement v = o.get(member);
        return v == null || v.isJsonNull() ? "-" : v.getAsString();
    }

    private static String size(JsonElement bytes) {
        return bytes == null || bytes.isJsonNull() ? "-" : Sizes.format(bytes.getAsLong());
    }
}
