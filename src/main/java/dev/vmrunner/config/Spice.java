package dev.vmrunner.config;

/**
 * SPICE display server settings.
 *
 * @param port TCP port, 1–65535
 * @param ticket the display password or {@code null} for none
 * @param streamingVideo QEMU's {@code streaming-video} value ({@code off}, {@code all}, {@code
 *     filter}; {@code true} is read as {@code all}), or {@code null} for QEMU's default
 * @param usbRedirects number of USB redirection channels
 */
public record Spice(int port, String ticket, String streamingVideo, int usbRedirects) {
    public static final int DEFAULT_PORT = 5900;
    public static final int DEFAULT_USB_REDIRECTS = 2;

    /** Whether SPICE detects and streams video regions. */
    public boolean streams() {
        return streamingVideo != null && !"off".equals(streamingVideo);
    }
}
