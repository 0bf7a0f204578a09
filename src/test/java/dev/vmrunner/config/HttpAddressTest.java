package dev.vmrunner.config;

import static dev.vmrunner.config.ConfigLoaderTest.parse;
import static dev.vmrunner.config.ConfigLoaderTest.problem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code --http} and the {@code http} key: {@code [ADDR:]PORT}. */
class HttpAddressTest {

    @ParameterizedTest
    @CsvSource({
        "8080, 127.0.0.1, 8080",
        "0.0.0.0:8080, 0.0.0.0, 8080",
        "[::1]:9100, ::1, 9100",
        "localhost:1, localhost, 1",
        "' 65535 ', 127.0.0.1, 65535"
    })
    void parses(String text, String host, int port) {
        assertEquals(new HttpAddress(host, port), HttpAddress.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0", "65536", "x", "1.2.3.4:", ":80", "::1:80", "a b:80", "-1"})
    void refuses(String text) {
        assertThrows(IllegalArgumentException.class, () -> HttpAddress.parse(text));
    }

    @Test
    void theKeyIsOffByDefaultAndReadWhenGiven() throws Exception {
        assertNull(parse("\"/Runner\":\n  vm:\n    name: t\n").http());
        assertEquals(
                new HttpAddress("127.0.0.1", 8080),
                parse("\"/Runner\":\n  http: 8080\n  vm:\n    name: t\n").http());
        assertEquals(
                "0.0.0.0:8080",
                parse("\"/Runner\":\n  http: \"0.0.0.0:8080\"\n  vm:\n    name: t\n")
                        .http()
                        .toString());
    }

    @Test
    void aBadValueIsAConfigErrorNamingTheKey() {
        String message = problem("\"/Runner\":\n  http: 99999\n  vm:\n    name: t\n");
        assertTrue(message.startsWith("line 2: http: expected a port from 1 to 65535"), message);
    }
}
