package dev.vmrunner.agent;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * One network interface from {@code guest-network-get-interfaces}.
 *
 * @param hardwareAddress the MAC address; null for interfaces without one
 */
public record GuestInterface(String name, String hardwareAddress, List<Address> addresses) {
    /** An IP address; {@code type} is {@code ipv4} or {@code ipv6}. */
    public record Address(String type, String address, int prefix) {
        @Override
        public String toString() {
            return address + "/" + prefix;
        }
    }

    public GuestInterface {
        addresses = List.copyOf(addresses);
    }

    static List<GuestInterface> listFrom(JsonElement reply) {
        if (reply == null || !reply.isJsonArray()) {
            throw new IllegalStateException("expected an array, got " + reply);
        }
        List<GuestInterface> result = new ArrayList<>();
        for (JsonElement e : reply.getAsJsonArray()) {
            JsonObject o = e.getAsJsonObject();
            List<Address> addresses = new ArrayList<>();
            JsonElement ips = o.get("ip-addresses");
            if (ips != null && ips.isJsonArray()) {
                for (JsonElement ip : ips.getAsJsonArray()) {
                    JsonObject a = ip.getAsJsonObject();
                    addresses.add(
                            new Address(
                                    Replies.stringOr(a, "ip-address-type", "?"),
                                    Replies.string(a, "ip-address"),
                                    (int) Replies.longOr(a, "prefix", 0)));
                }
            }
            result.add(
                    new GuestInterface(
                            Replies.string(o, "name"),
                            Replies.stringOr(o, "hardware-address", null),
                            addresses));
        }
        return List.copyOf(result);
    }
}
