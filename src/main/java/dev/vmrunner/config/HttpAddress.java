package dev.vmrunner.config;

import java.util.Locale;

/**
 * Where the opt-in HTTP endpoints listen: {@code [ADDR:]PORT}, from {@code --http} or the {@code
 * http} key. Without an address only this host can connect (127.0.0.1); in a pod, where the kubelet
 * probes the pod's IP, give {@code 0.0.0.0:PORT}. An IPv6 address is written in brackets ({@code
 * [::1]:8080}).
 *
 * @param host an IP address or host name
 * @param port 1 to 65535
 */
public record HttpAddress(String host, int port) {

    /** The address used when only a port is given. */
    public static final String DEFAULT_HOST = "127.0.0.1";

    private static final int MAX_LENGTH = 300;

    /**
     * Parses {@code [ADDR:]PORT}.
     *
     * @throws IllegalArgumentException with a message that says what is wrong
     */
    public static HttpAddress parse(String text) {
        String t = text.strip();
        if (t.isEmpty() || t.length() > MAX_LENGTH) {
            throw new IllegalArgumentException(
                    "expected [ADDRESS:]PORT, e.g. 8080 or 0.0.0.0:8080, got \""
                            + abbreviated(t)
                            + "\"");
        }
        int colon = t.lastIndexOf(':');
        String host = colon < 0 ? DEFAULT_HOST : t.substring(0, colon);
        String port = colon < 0 ? t : t.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException(
                    "an IPv6 address needs brackets, e.g. [::1]:8080, got \"" + t + "\"");
        }
        if (host.isEmpty() || !host.matches("[A-Za-z0-9._:%-]+")) {
            throw new IllegalArgumentException(
                    "expected an address before the port, got \"" + t + "\"");
        }
        return new HttpAddress(host.toLowerCase(Locale.ROOT), port(port, t));
    }

    private static int port(String port, String text) {
        if (!port.matches("[0-9]{1,5}")
                || Integer.parseInt(port) < 1
                || Integer.parseInt(port) > 65535) {
            throw new IllegalArgumentException(
                    "expected a port from 1 to 65535 after the address, got \"" + text + "\"");
        }
        return Integer.parseInt(port);
    }

    private static String abbreviated(String t) {
        return t.length() > 40 ? t.substring(0, 40) + "..." : t;
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
