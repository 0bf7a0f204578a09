package dev.vmrunner.config;

/**
 * Where a migration stream goes or comes from: {@code tcp:ADDRESS:PORT} (QEMU's migration URI; the
 * only transport the runner offers, because it is the one that crosses nodes and pods). An IPv6
 * address is written in brackets ({@code tcp:[::]:4444}).
 */
public record MigrationUri(HttpAddress address) {

    private static final String TCP = "tcp:";

    /**
     * Parses {@code tcp:ADDRESS:PORT}.
     *
     * @throws IllegalArgumentException with a message that says what is wrong
     */
    public static MigrationUri parse(String text) {
        String t = text.strip();
        if (!t.startsWith(TCP) || t.indexOf(':', TCP.length()) < 0) {
            throw new IllegalArgumentException(
                    "expected tcp:ADDRESS:PORT, e.g. tcp:0.0.0.0:4444, got \""
                            + (t.length() > 40 ? t.substring(0, 40) + "..." : t)
                            + "\"");
        }
        return new MigrationUri(HttpAddress.parse(t.substring(TCP.length())));
    }

    /** The URI as QEMU takes it. */
    @Override
    public String toString() {
        return TCP + address;
    }
}
