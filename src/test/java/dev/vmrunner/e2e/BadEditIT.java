package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.WAIT;
import static dev.vmrunner.e2e.ReconfigureIT.await;
import static dev.vmrunner.e2e.StatusIT.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bad edit of a running VM's configuration, semantic and unparsable: the runner keeps the last
 * good one, and {@code status}, {@code status --ready} and {@code console} (what probes and
 * operators run) go on answering, exit 0, and say why the file is rejected.
 */
class BadEditIT {

    @TempDir Path dir;

    @Test
    void statusReadyAndConsoleAnswerThroughABadEdit() throws Exception {
        try (TestVm vm = new TestVm(dir).template("vmrunner.agent=off").config()) {
            vm.boot();
            String good = Files.readString(vm.config);

            // Semantic: currentRam above maximumRam (256M).
            vm.config("currentRam: 4G");
            vm.awaitLog("Ignoring the changed configuration", WAIT);
            askedThrough(vm, "vm.currentRam");

            // YAML that does not parse: found through the runner's link.
            Files.writeString(vm.config, "\"/Runner\":\n  vm: [\n    name: e2e\n");
            await(
                    "the runner's rejection of the unparsable file",
                    () -> status(vm, "-o", "json").json().get("rejectedEdit"),
                    r ->
                            r.isJsonObject()
                                    && !r.getAsJsonObject()
                                            .getAsJsonArray("problems")
                                            .toString()
                                            .contains("vm.currentRam"));
            askedThrough(vm, "line ");

            // A good edit again: nothing is rejected any more.
            Files.writeString(vm.config, good + "    powerdownTimeout: 30\n");
            JsonObject s =
                    await(
                            "the good edit",
                            () -> status(vm, "-o", "json").json(),
                            j -> j.get("rejectedEdit").isJsonNull());
            assertTrue(!s.has("configFile"), s.toString());
            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
        }
    }

    /** The three commands while the file on disk is rejected for {@code problem}. */
    private static void askedThrough(TestVm vm, String problem) throws Exception {
        StatusIT.Answer text = status(vm);
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("State          running"), text.out());
        assertTrue(text.out().contains("Config file    rejected"), text.out());
        assertTrue(text.out().contains(problem), text.out());

        StatusIT.Answer json = status(vm, "-o", "json");
        assertEquals(0, json.code(), json.err());
        JsonObject s = json.json();
        assertEquals("running", s.get("state").getAsString());
        assertTrue(
                s.getAsJsonObject("configFile")
                        .getAsJsonArray("problems")
                        .toString()
                        .contains(problem),
                s.toString());
        assertTrue(
                s.getAsJsonObject("rejectedEdit")
                        .getAsJsonArray("problems")
                        .toString()
                        .contains(problem),
                s.toString());

        StatusIT.Answer ready = status(vm, "--ready");
        assertEquals(0, ready.code(), ready.err());

        Process console =
                new ProcessBuilder(
                                TestVm.LAUNCHER.toString(), "console", "-c", vm.config.toString())
                        .start();
        try (OutputStream in = console.getOutputStream()) {
            in.write("echo bad-edit-$((6*7))\n".getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(console.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(console.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(console.waitFor(60, TimeUnit.SECONDS), "console did not end");
        assertEquals(0, console.exitValue(), err);
        assertTrue(out.contains("bad-edit-42"), out);
        assertTrue(err.contains("the configuration file is invalid") && err.contains(problem), err);
    }
}
