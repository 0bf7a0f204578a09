package dev.vmrunner.launch;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Makes sure that no interpolated value with a comma adds an option, whether or not the template
 * used {@code qv()}. It sees each such value where it ended up (see {@link Marks}) and decides per
 * argument:
 *
 * <ul>
 *   <li><b>qemu</b>, the argument of an option such as {@code -drive}: inside the value of a {@code
 *       key=...} element the commas are doubled, which QEMU reads as literal commas: escaped where
 *       it provably sits inside an option value. The whole argument of {@code -cpu} stays as it is
 *       ({@code vm.cpuModel} is a CPU model with its features, {@code host,+vmx}). The argument of
 *       an option that takes a plain file or text ({@code -kernel}, {@code -append}, {@code
 *       -pidfile}, ...) stays as it is. Anywhere else (an implied key such as {@code -name ${x}}, a
 *       key, a JSON argument, an argument that belongs to no option) the rendering fails, naming
 *       the value, the interpolation and its template line.
 *   <li><b>swtpm</b>: its options cannot escape a comma; the rendering fails.
 *   <li><b>cloudInitImg</b>: an ISO tool or a shell script that takes whole arguments; values stay
 *       as they are.
 * </ul>
 */
final class CommaGuard {

    /** QEMU options whose argument is one file name or text, never an option list. */
    private static final Set<String> PLAIN_ARGUMENT =
            Set.of(
                    "-kernel",
                    "-append",
                    "-dtb",
                    "-pidfile",
                    "-D",
                    "-cdrom",
                    "-hda",
                    "-hdb",
                    "-hdc",
                    "-hdd",
                    "-fda",
                    "-fdb",
                    "-bios",
                    "-L",
                    "-readconfig");

    private final TemplateSource source;
    private final Marks marks;

    CommaGuard(TemplateSource source, Marks marks) {
        this.source = source;
        this.marks = marks;
    }

    /** The process's arguments with every mark resolved. */
    List<String> resolve(String process, List<String> arguments) throws LaunchException {
        List<String> resolved = new ArrayList<>(arguments.size());
        for (int i = 0; i < arguments.size(); i++) {
            String argument = arguments.get(i);
            String previous = i == 0 ? null : resolved.get(i - 1);
            resolved.add(
                    Marks.reserved(argument) < 0
                            ? argument
                            : resolveOne(process, argument, previous, i));
        }
        return resolved;
    }

    private String resolveOne(String process, String argument, String previous, int index)
            throws LaunchException {
        List<Object> parts = parts(argument);
        switch (process) {
            case "qemu":
                return qemu(parts, previous, index);
            case "swtpm":
                throw refused(
                        first(parts),
                        "swtpm's options cannot escape a comma; choose a path or name without ','");
            default:
                return Marks.strip(argument);
        }
    }

    private String qemu(List<Object> parts, String previous, int index) throws LaunchException {
        if (previous != null && PLAIN_ARGUMENT.contains(previous)
                || "-cpu".equals(previous) && parts.size() == 1) {
            return plain(parts);
        }
        boolean optionList =
                previous != null
                        && previous.startsWith("-")
                        && !(parts.get(0) instanceof String s && s.startsWith("{"));
        StringBuilder out = new StringBuilder();
        for (Object part : parts) {
            if (part instanceof Marked marked) {
                if (!optionList || !inOptionValue(out)) {
                    throw refused(
                            marked,
                            "it is not inside the value of a key=... option of QEMU argument "
                                    + (index + 1)
                                    + " ("
                                    + (previous == null ? "" : previous + " ")
                                    + "\""
                                    + plain(parts)
                                    + "\"), so it would add options; use it only after key= or"
                                    + " choose a value without ','");
                }
                out.append(marked.value().replace(",", ",,"));
            } else {
                out.append((String) part);
            }
        }
        return out.toString();
    }

    /**
     * Whether the end of {@code option} lies in the value of its last {@code key=value} element:
     * QEMU separates elements at a single comma and reads {@code ,,} as a comma.
     */
    static boolean inOptionValue(CharSequence option) {
        boolean equals = false;
        for (int i = 0; i < option.length(); i++) {
            char c = option.charAt(i);
            if (c == ',' && i + 1 < option.length() && option.charAt(i + 1) == ',') {
                i++;
            } else if (c == ',') {
                equals = false;
            } else if (c == '=') {
                equals = true;
            }
        }
        return equals;
    }

    private LaunchException refused(Marked marked, String why) {
        Marks.Origin origin = marks.origin(marked.id());
        String template =
                origin.template().equals(source.name()) ? source.origin() : origin.template();
        return new LaunchException(
                "Failed to render template "
                        + template
                        + ": the value \""
                        + YamlStringOutputFormat.escape(origin.value())
                        + "\" of "
                        + origin.expression()
                        + (origin.line() > 0 ? " (template line " + origin.line() + ")" : "")
                        + " contains a comma and "
                        + why);
    }

    /** A value that came from an interpolation. */
    private record Marked(int id, String value) {}

    private static Marked first(List<Object> parts) {
        for (Object part : parts) {
            if (part instanceof Marked marked) {
                return marked;
            }
        }
        throw new IllegalStateException("no mark");
    }

    private static String plain(List<Object> parts) {
        StringBuilder out = new StringBuilder();
        for (Object part : parts) {
            out.append(part instanceof Marked marked ? marked.value() : (String) part);
        }
        return out.toString();
    }

    /** The argument as literal strings and marked values, in order. */
    private static List<Object> parts(String argument) throws LaunchException {
        List<Object> parts = new ArrayList<>();
        int at = 0;
        while (at < argument.length()) {
            int start = argument.indexOf(Marks.START, at);
            if (start < 0) {
                parts.add(argument.substring(at));
                break;
            }
            int value = argument.indexOf(Marks.VALUE, start);
            int end = argument.indexOf(Marks.END, start);
            int next = argument.indexOf(Marks.START, start + 1);
            if (value < 0 || end < value || next >= 0 && next < end) {
                throw new LaunchException(
                        "Failed to render the template: an interpolated value was escaped twice"
                                + " (as with ?markup_string); interpolate each value once");
            }
            if (start > at) {
                parts.add(argument.substring(at, start));
            }
            parts.add(
                    new Marked(
                            Integer.parseInt(argument.substring(start + 1, value)),
                            argument.substring(value + 1, end)));
            at = end + 1;
        }
        return parts;
    }
}
