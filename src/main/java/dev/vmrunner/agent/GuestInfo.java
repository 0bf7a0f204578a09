package dev.vmrunner.agent;

import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What the guest agent told at one time. A fact the agent did not give (command disabled in the
 * guest, or failed) is null; {@code interfaces} is then empty.
 */
public record GuestInfo(
        OsInfo os,
        String hostName,
        GuestTimeZone timeZone,
        List<GuestInterface> interfaces,
        Instant collectedAt) {

    public GuestInfo {
        interfaces = interfaces == null ? List.of() : List.copyOf(interfaces);
    }

    /** The addresses of all interfaces but loopback, e.g. {@code 10.0.2.15/24}. */
    public List<String> addresses() {
        return interfaces.stream()
                .filter(i -> !"lo".equals(i.name()))
                .flatMap(i -> i.addresses().stream())
                .map(GuestInterface.Address::toString)
                .collect(Collectors.toList());
    }

    /** One line for the log: OS, host name, time zone, addresses. */
    public String describe() {
        return (os == null ? "OS unknown" : os.describe())
                + ", host name "
                + (hostName == null ? "unknown" : hostName)
                + (timeZone == null
                        ? ""
                        : ", time zone "
                                + (timeZone.zone() == null ? "" : timeZone.zone() + " ")
                                + "(UTC"
                                + (timeZone.offsetSeconds() >= 0 ? "+" : "")
                                + timeZone.offsetSeconds() / 3600.0
                                + "h)")
                + ", addresses "
                + (addresses().isEmpty() ? "none" : String.join(" ", addresses()));
    }
}
