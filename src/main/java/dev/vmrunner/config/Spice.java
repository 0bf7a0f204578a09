package dev.vmrunner.config;

/**
 * SPICE display server settings.
 *
 * @param port TCP port, 1–65535
 * @param ticket the display password or {@code null} for none
 * @param streamingVideo whether SPICE detects and streams video regions
 * @param usbRedirects number of USB redirection channels
 */
public record Spice(int port, String ticket, boolean streamingVideo, int usbRedirects) {
    public static final int DEFAULT_PORT = 5900;
    public static final int DEFAULT_USB_REDIRECTS = 2;
}
