package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a template owes an interface of type passt: a passt process, and passt installed. */
class PasstTemplateTest {

    private static final Path NO_DIR = Path.of("/nonexistent/templates");

    private static final Map<String, Object> MODEL =
            Map.of(
                    "vm",
                    Map.of("network", List.of(Map.of("type", "passt"))),
                    "passtSocket",
                    "/run/vm/passt.sock",
                    "runAs",
                    "1000:1000");

    private static Commands render(String text) throws LaunchException {
        return new Renderer(NO_DIR).render(new TemplateSource("t", text, "t"), MODEL, false, false);
    }

    @Test
    void aPasstInterfaceStartsTheTemplatesPasstBeforeQemu() throws Exception {
        Commands commands =
                render(
                        """
                        "passt":
                          "executable": [ "/bin/sh" ]
                          "arguments": [ "--socket", "${ passtSocket }", "--runas", "${ runAs }" ]
                        "qemu":
                          "executable": [ "/bin/sh" ]
                        """);
        assertEquals(
                List.of("/bin/sh", "--socket", "/run/vm/passt.sock", "--runas", "1000:1000"),
                commands.passt().orElseThrow().argv());
        assertEquals(
                List.of("passt", "qemu"),
                commands.inStartOrder().stream().map(ProcessSpec::name).toList());
    }

    @Test
    void aTemplateWithoutPasstIsRefused() {
        LaunchException e =
                assertThrows(
                        LaunchException.class,
                        () -> render("\"qemu\":\n  \"executable\": [ \"/bin/sh\" ]\n"));
        assertTrue(e.getMessage().contains("defines no \"passt\" process"), e.getMessage());
    }

    @Test
    void aMissingPasstNamesThePackageAndTheFallback() {
        LaunchException e =
                assertThrows(
                        LaunchException.class,
                        () ->
                                render(
                                        """
                                        "passt":
                                          "executable": [ "/nonexistent/passt" ]
                                        "qemu":
                                          "executable": [ "/bin/sh" ]
                                        """));
        assertEquals(
                "Failed to find the passt executable: /nonexistent/passt is not installed"
                        + " (Debian/Ubuntu: apt-get install passt; or give the interface type user"
                        + " with the same ports)",
                e.getMessage());
    }
}
