package dev.vmrunner.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Syntax checks for values that end up in QEMU option strings or file names. Each returns {@code
 * null} if the value is fine, else what is wrong with it. They are deliberately narrow: a value
 * that passes cannot add QEMU options, whatever the template does with it. (An enum rather than
 * method references: no lambda classes to spin up at start-up.)
 */
enum Check {
    NAME,
    UUID,
    MAC,
    BRIDGE,
    CIDR,
    CPU_MODEL,
    DEVICE,
    RTC_BASE,
    PATH;

    /**
     * vm.name is a directory name and part of QEMU's {@code -name}; 64 is far above typical names.
     */
    static final int MAX_NAME_LENGTH = 64;

    /** Linux IFNAMSIZ (16) minus the terminating NUL. */
    static final int MAX_BRIDGE_LENGTH = 15;

    private static final Pattern UUID_SYNTAX =
            Pattern.compile(
                    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern MAC_SYNTAX = Pattern.compile("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}");
    private static final Pattern CIDR_SYNTAX =
            Pattern.compile(
                    "([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})/([0-9]{1,2})");
    private static final Pattern CPU_MODEL_SYNTAX = Pattern.compile("[A-Za-z0-9_.\\-+=,]+");
    private static final Pattern DEVICE_SYNTAX = Pattern.compile("[A-Za-z0-9_\\-]+");
    private static final Pattern DATE_TIME =
            Pattern.compile(
                    "([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2}):([0-9]{2}))?");

    /** What is wrong with {@code value}, or {@code null} if it is fine. */
    String apply(String value) {
        switch (this) {
            case NAME:
                return name(value);
            case UUID:
                return uuid(value);
            case MAC:
                return mac(value);
            case BRIDGE:
                return bridge(value);
            case CIDR:
                return cidr(value);
            case CPU_MODEL:
                return cpuModel(value);
            case DEVICE:
                return device(value);
            case RTC_BASE:
                return rtcBase(value);
            default:
                return path(value);
        }
    }

    static String name(String name) {
        if (name.isEmpty()) {
            return "must not be empty";
        }
        if (name.length() > MAX_NAME_LENGTH) {
            return "is longer than " + MAX_NAME_LENGTH + " characters";
        }
        if (name.equals(".") || name.equals("..")) {
            return "must not be '" + name + "' (it is used as a directory name)";
        }
        if (name.indexOf('/') >= 0) {
            return "must not contain '/' (it is used as a directory name)";
        }
        if (hasControl(name)) {
            return "must not contain control characters";
        }
        return null;
    }

    static String uuid(String uuid) {
        return UUID_SYNTAX.matcher(uuid).matches()
                ? null
                : "'" + uuid + "' is not a UUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)";
    }

    static String mac(String mac) {
        if (!MAC_SYNTAX.matcher(mac).matches()) {
            return "'" + mac + "' is not a MAC address (expected xx:xx:xx:xx:xx:xx, hex digits)";
        }
        if ((Integer.parseInt(mac.substring(0, 2), 16) & 1) != 0) {
            return "'" + mac + "' is a multicast address (the first byte must be even)";
        }
        return null;
    }

    /** A Linux network interface name, as the kernel's {@code dev_valid_name} accepts it. */
    static String bridge(String bridge) {
        if (bridge.isEmpty() || bridge.length() > MAX_BRIDGE_LENGTH) {
            return "'"
                    + bridge
                    + "' is not an interface name (1 to "
                    + MAX_BRIDGE_LENGTH
                    + " characters)";
        }
        if (bridge.equals(".") || bridge.equals("..")) {
            return "'" + bridge + "' is not an interface name";
        }
        for (int i = 0; i < bridge.length(); i++) {
            char c = bridge.charAt(i);
            if (c == '/'
                    || c == ','
                    || c == '='
                    || c == ':'
                    || Character.isWhitespace(c)
                    || Character.isISOControl(c)) {
                return "'"
                        + bridge
                        + "' is not an interface name (no '/', ',', '=', ':',"
                        + " spaces or control characters)";
            }
        }
        return null;
    }

    static String cidr(String net) {
        Matcher matcher = CIDR_SYNTAX.matcher(net);
        boolean valid = matcher.matches();
        for (int group = 1; valid && group <= 4; group++) {
            valid = Integer.parseInt(matcher.group(group)) <= 255;
        }
        if (!valid || Integer.parseInt(matcher.group(5)) > 32) {
            return "'" + net + "' is not an IPv4 network in CIDR notation (e.g. 10.0.2.0/24)";
        }
        return null;
    }

    static String cpuModel(String model) {
        return CPU_MODEL_SYNTAX.matcher(model).matches()
                ? null
                : "'" + model + "' is not a CPU model (letters, digits and _ . - + = , only)";
    }

    static String device(String device) {
        return DEVICE_SYNTAX.matcher(device).matches()
                ? null
                : "'" + device + "' is not a device model (letters, digits, - and _ only)";
    }

    static String rtcBase(String base) {
        if (base.equals("utc") || base.equals("localtime")) {
            return null;
        }
        Matcher matcher = DATE_TIME.matcher(base);
        if (matcher.matches()) {
            return validDate(matcher) ? null : "'" + base + "' is not a valid date";
        }
        return "'"
                + base
                + "' is not allowed (utc, localtime, or a date such as 2006-06-17"
                + " or 2006-06-17T16:01:21)";
    }

    /** Range checks without java.time, whose classes would take a while to load. */
    private static boolean validDate(Matcher date) {
        int year = Integer.parseInt(date.group(1));
        int month = Integer.parseInt(date.group(2));
        int day = Integer.parseInt(date.group(3));
        if (month < 1 || month > 12 || day < 1) {
            return false;
        }
        boolean leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        int[] days = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (day > days[month - 1]) {
            return false;
        }
        return date.group(4) == null
                || Integer.parseInt(date.group(4)) < 24
                        && Integer.parseInt(date.group(5)) < 60
                        && Integer.parseInt(date.group(6)) < 60;
    }

    /** A file path: anything but NUL and line breaks (commas are escaped by the template layer). */
    static String path(String path) {
        if (path.isEmpty()) {
            return "must not be empty";
        }
        if (path.indexOf('\0') >= 0 || path.indexOf('\n') >= 0 || path.indexOf('\r') >= 0) {
            return "must not contain NUL or line breaks";
        }
        return null;
    }

    static boolean hasControl(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.isISOControl(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }
}
