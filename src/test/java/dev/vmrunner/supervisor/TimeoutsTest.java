package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TimeoutsTest {

    @Test
    void withoutTheVariableTheDefaultsHold() {
        assertSame(Timeouts.DEFAULT, Timeouts.fromEnvironment(Map.of()));
        assertSame(Timeouts.DEFAULT, Timeouts.fromEnvironment(Map.of(Timeouts.SCALE_ENV, " ")));
    }

    @Test
    void aFactorStretchesEveryDeadlineButTheRepeatOfTheButton() {
        Timeouts t = Timeouts.fromEnvironment(Map.of(Timeouts.SCALE_ENV, "2.5"));
        assertEquals(Duration.ofSeconds(75), t.helperStart());
        assertEquals(Duration.ofSeconds(75), t.qmpConnect());
        assertEquals(Duration.ofSeconds(25), t.qmpCommand());
        assertEquals(Duration.ofMillis(12_500), t.killGrace());
        assertEquals(Duration.ofSeconds(5), t.powerdownRepress());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.5", "0", "101", "-2", "fast", "1e2", "Infinity", "NaN", "2,5"})
    void anythingButAFactorFromOneToAHundredIsRefusedByName(String value) {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Timeouts.fromEnvironment(Map.of(Timeouts.SCALE_ENV, value)));
        assertTrue(e.getMessage().startsWith(Timeouts.SCALE_ENV + ": '" + value + "'"));
    }
}
