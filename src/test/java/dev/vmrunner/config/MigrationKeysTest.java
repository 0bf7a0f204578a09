package dev.vmrunner.config;

import static dev.vmrunner.config.ConfigLoaderTest.parse;
import static dev.vmrunner.config.ConfigLoaderTest.problem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code incoming} and the {@code migration} section; {@code --incoming}'s URI. */
class MigrationKeysTest {

    @ParameterizedTest
    @CsvSource({
        "tcp:0.0.0.0:4444, tcp:0.0.0.0:4444",
        "' tcp:node-2:49152 ', tcp:node-2:49152",
        "'tcp:[::]:4444', 'tcp:[::]:4444'"
    })
    void parses(String text, String uri) {
        assertEquals(uri, MigrationUri.parse(text).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "4444", "tcp:4444", "unix:/s", "exec:sh", "tcp::4444", "tcp:h:0"})
    void refuses(String text) {
        assertThrows(IllegalArgumentException.class, () -> MigrationUri.parse(text));
    }

    @Test
    void defaultsAndGivenValues() throws Exception {
        Migration defaults = parse("\"/Runner\":\n  vm:\n    name: t\n").migration();
        assertEquals(Migration.DEFAULTS, defaults);
        Migration given =
                parse(
                                "\"/Runner\":\n  incoming: tcp:0.0.0.0:4444\n  migration:\n"
                                        + "    maxDowntime: 100\n    deadline: 30\n"
                                        + "    maxBandwidth: 1G\n  vm:\n    name: t\n")
                        .migration();
        assertEquals("tcp:0.0.0.0:4444", given.incoming().toString());
        assertEquals(Duration.ofMillis(100), given.maxDowntime());
        assertEquals(Duration.ofSeconds(30), given.deadline());
        assertEquals(1L << 30, given.maxBandwidth());
    }

    @Test
    void badValuesNameTheirKeys() {
        assertTrue(
                problem("\"/Runner\":\n  incoming: 4444\n  vm:\n    name: t\n")
                        .startsWith("line 2: incoming: expected tcp:ADDRESS:PORT"));
        assertTrue(
                problem("\"/Runner\":\n  migration:\n    deadline: 0\n  vm:\n    name: t\n")
                        .startsWith("line 3: migration.deadline:"));
    }
}
