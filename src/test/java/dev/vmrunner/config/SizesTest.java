package dev.vmrunner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {
    private static final long KI = 1024L;
    private static final long MI = KI * KI;
    private static final long GI = MI * KI;
    private static final long TI = GI * KI;

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "1|1",
                "1073741824|1073741824",
                "512B|512",
                "1K|1024",
                "1k|1024",
                "2M|2097152",
                "3G|3221225472",
                "1T|1099511627776",
                "1P|1125899906842624",
                "1E|1152921504606846976",
                "1Ki|1024",
                "1Mi|1048576",
                "1Gi|1073741824",
                "1Ti|1099511627776",
                "1KiB|1024",
                "1MiB|1048576",
                "1GiB|1073741824",
                "1TiB|1099511627776",
                "1kB|1000",
                "1MB|1000000",
                "1GB|1000000000",
                "1TB|1000000000000",
                "1.5G|1610612736",
                "0.5M|524288",
                ".5K|512",
                "2.|2",
                "1.25 GiB|1342177280",
                "1.0000000001K|1024",
                "1.7|1",
                "1.5kB|1500",
                "512 M|536870912",
                "  4G  |4294967296",
                "8\tGiB|8589934592",
                "7E|8070450532247928832",
            })
    void parsesText(String text, String bytes) {
        assertEquals(Long.parseLong(bytes), Sizes.parseBytes(text));
    }

    @Test
    void parsesIntegralNumbers() {
        assertEquals(1024L, Sizes.parseBytes(1024));
        assertEquals(GI, Sizes.parseBytes(GI));
        assertEquals(5L, Sizes.parseBytes(BigInteger.valueOf(5)));
        assertEquals(TI, Sizes.parseBytes(String.valueOf(TI)));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "", " ", "G", "abc", "1 G B", "1GG", "1KB", "1Gb", "1mB", "1gi", "1kiB", "1X",
                "1,5G", "1e3", "0x10", "+1G", "1.5.G", "1 0G"
            })
    void rejectsMalformed(String text) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Sizes.parseBytes(text));
        assertTrue(
                e.getMessage().contains(text.strip().isEmpty() ? "size" : text.strip()),
                e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "0G", "-1", "-1G", " -512M", "0.0001K", "0.1"})
    void rejectsZeroAndNegative(String text) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Sizes.parseBytes(text));
        assertTrue(e.getMessage().contains("not a positive size"), e.getMessage());
    }

    @Test
    void rejectsNonPositiveNumbers() {
        assertThrows(IllegalArgumentException.class, () -> Sizes.parseBytes(0));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parseBytes(-5L));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "8E",
                "8EiB",
                "9223372036854775808",
                "10000000000000000000000",
                "9300PB",
                "16384P"
            })
    void rejectsOverflow(String text) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Sizes.parseBytes(text));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
    }

    @Test
    void rejectsOtherTypes() {
        assertThrows(IllegalArgumentException.class, () -> Sizes.parseBytes(null));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parseBytes(1.5));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parseBytes(true));
    }

    @Test
    void formatsWithLargestEvenUnit() {
        assertEquals("1G", Sizes.format(GI));
        assertEquals("1536M", Sizes.format(GI + GI / 2));
        assertEquals("1kB", Sizes.format(1000)); // decimal where that is shorter
        assertEquals("2GB", Sizes.format(2_000_000_000L));
        assertEquals("1000M", Sizes.format(1000 * MI));
        assertEquals("3K", Sizes.format(3 * KI));
        assertEquals("2T", Sizes.format(2 * TI));
    }
}
