package dev.vmrunner.launch;

import dev.vmrunner.config.DisplayPassword;
import dev.vmrunner.config.RunnerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What is unsafe about the rendered display: a SPICE server that anyone reaching its port can use,
 * and a password that sits in the configuration (a ConfigMap in Kubernetes) rather than a Secret.
 * Logged at check, render and start.
 */
final class DisplayWarnings {
    private static final Set<String> LOCAL = Set.of("127.0.0.1", "::1", "localhost");

    private DisplayWarnings() {}

    static List<String> of(RunnerConfig config, Commands commands) {
        List<String> warnings = new ArrayList<>();
        var display = config.vm().display();
        boolean ticket =
                display != null && display.spice() != null && display.spice().ticket() != null;
        if (ticket) {
            warnings.add(
                    "vm.display.spice.ticket puts the display password into the configuration"
                            + " (a ConfigMap is readable by anyone who may read the namespace's"
                            + " ConfigMaps); put it into a Secret projected as "
                            + DisplayPassword.PASSWORD_FILE
                            + " beside the configuration file instead");
        }
        List<String> argv = commands.qemu().arguments();
        for (int i = 0; i + 1 < argv.size(); i++) {
            if (argv.get(i).equals("-spice")) {
                spice(argv.get(i + 1), warnings);
            }
        }
        return warnings;
    }

    private static void spice(String options, List<String> warnings) {
        String addr = null;
        boolean open = false;
        for (String option : options.split(",")) {
            if (option.startsWith("addr=")) {
                addr = option.substring(5);
            } else if (option.equals("disable-ticketing=on")
                    || option.equals("disable-ticketing")) {
                open = true;
            }
        }
        if (open && (addr == null || !LOCAL.contains(addr))) {
            warnings.add(
                    "SECURITY: the SPICE display listens on "
                            + (addr == null ? "all addresses" : addr)
                            + " without a password: anyone who reaches its port controls the"
                            + " VM's console. Give a password (a "
                            + DisplayPassword.PASSWORD_FILE
                            + " file beside the configuration) or listen on 127.0.0.1 only");
        }
    }
}
