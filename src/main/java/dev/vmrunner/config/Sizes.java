package dev.vmrunner.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses memory sizes.
 *
 * <p>Accepted: a whole number of bytes, or a number (fractions allowed) followed by an optional
 * unit, with optional white space between. Single-letter units are binary as in QEMU's {@code -m}
 * ({@code 512M} = 512 MiB; lower case {@code k m g t p e} too, as QEMU accepts them); {@code
 * Ki}/{@code KiB} … are binary; {@code kB}/{@code MB}/{@code GB} … are decimal; {@code B} is bytes.
 * Fractional byte counts are rounded down. The result must be positive and fit into a {@code long}.
 * Ambiguous spellings such as {@code KB} or {@code Gb} are rejected.
 */
public final class Sizes {
    private static final Pattern SIZE =
            Pattern.compile("\\s*([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)\\s*([A-Za-z]*)\\s*");
    private static final String UNITS =
            "B, K, M, G, T, P, E (binary), Ki/KiB … Ei/EiB (binary), "
                    + "kB, MB, GB, TB, PB, EB (decimal)";
    private static final BigDecimal MAX = BigDecimal.valueOf(Long.MAX_VALUE);

    private Sizes() {}

    /**
     * Returns the number of bytes that {@code value} stands for.
     *
     * @param value an integral {@link Number} or a {@link CharSequence} as described above
     * @throws IllegalArgumentException naming the problem (not a size, unknown unit, not positive,
     *     too large)
     */
    public static long parseBytes(Object value) {
        BigDecimal bytes;
        if (value instanceof Long
                || value instanceof Integer
                || value instanceof Short
                || value instanceof Byte) {
            bytes = BigDecimal.valueOf(((Number) value).longValue());
        } else if (value instanceof BigInteger big) {
            bytes = new BigDecimal(big);
        } else if (value instanceof CharSequence text) {
            bytes = parseText(text.toString());
        } else {
            throw new IllegalArgumentException(
                    "expected a size such as 1G or 512 MiB, got "
                            + (value == null ? "nothing" : value.getClass().getSimpleName()));
        }
        if (bytes.signum() <= 0) {
            throw new IllegalArgumentException(value + " is not a positive size");
        }
        if (bytes.compareTo(MAX) > 0) {
            throw new IllegalArgumentException(value + " is too large");
        }
        return bytes.longValueExact();
    }

    private static BigDecimal parseText(String text) {
        String trimmed = text.strip();
        if (trimmed.startsWith("-")) {
            throw new IllegalArgumentException(text + " is not a positive size");
        }
        Matcher matcher = SIZE.matcher(text);
        if (!matcher.matches()) {
            throw new IllegalArgumentException(
                    "'"
                            + text
                            + "' is not a size (expected a number with an optional unit: "
                            + UNITS
                            + ")");
        }
        BigInteger factor = factor(matcher.group(2));
        if (factor == null) {
            throw new IllegalArgumentException(
                    "'"
                            + text
                            + "' has an unknown unit '"
                            + matcher.group(2)
                            + "' (allowed: "
                            + UNITS
                            + ")");
        }
        return new BigDecimal(matcher.group(1))
                .multiply(new BigDecimal(factor))
                .setScale(0, RoundingMode.FLOOR);
    }

    /** The factor for a unit, or {@code null} if the unit is unknown. */
    static BigInteger factor(String unit) {
        if (unit.isEmpty() || unit.equals("B")) {
            return BigInteger.ONE;
        }
        int power = power(unit.charAt(0));
        if (power < 0) {
            return null;
        }
        String rest = unit.substring(1);
        if (rest.isEmpty()) {
            return BigInteger.valueOf(1024).pow(power);
        }
        if ((rest.equals("i") || rest.equals("iB")) && Character.isUpperCase(unit.charAt(0))) {
            return BigInteger.valueOf(1024).pow(power);
        }
        // SI prefix: kilo is lower case k, the others upper case.
        boolean siPrefix =
                power == 1 ? unit.charAt(0) == 'k' : Character.isUpperCase(unit.charAt(0));
        if (rest.equals("B") && siPrefix) {
            return BigInteger.valueOf(1000).pow(power);
        }
        return null;
    }

    private static int power(char prefix) {
        switch (prefix) {
            case 'k':
            case 'K':
                return 1;
            case 'm':
            case 'M':
                return 2;
            case 'g':
            case 'G':
                return 3;
            case 't':
            case 'T':
                return 4;
            case 'p':
            case 'P':
                return 5;
            case 'e':
            case 'E':
                return 6;
            default:
                return -1;
        }
    }

    /**
     * Formats bytes for messages: the largest binary unit that divides evenly ({@code 1536M}), or
     * the decimal one if that is shorter ({@code 2GB}, not {@code 1953125K}).
     */
    public static String format(long bytes) {
        String binary = format(bytes, 1024, new String[] {"", "K", "M", "G", "T", "P", "E"});
        String decimal = format(bytes, 1000, new String[] {"", "kB", "MB", "GB", "TB", "PB", "EB"});
        return digits(decimal) < digits(binary) ? decimal : binary;
    }

    private static String format(long bytes, int base, String[] units) {
        int unit = 0;
        long value = bytes;
        while (unit < units.length - 1 && value != 0 && value % base == 0) {
            value /= base;
            unit++;
        }
        return value + units[unit];
    }

    private static int digits(String size) {
        int n = 0;
        while (n < size.length() && Character.isDigit(size.charAt(n))) {
            n++;
        }
        return n;
    }
}
