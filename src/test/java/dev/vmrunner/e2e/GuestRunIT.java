package dev.vmrunner.e2e;

import static dev.vmrunner.e2e.ReconfigureIT.WAIT;
import static dev.vmrunner.e2e.ReconfigureIT.await;
import static dev.vmrunner.e2e.ReconfigureIT.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.vmrunner.qmp.Qmp;
import dev.vmrunner.qmp.SpiceInfo;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner with the guest agent and the display password, end to end: Debian's qemu-ga in the
 * test guest, real QEMU with SPICE.
 */
class GuestRunIT {

    @TempDir Path dir;

    @Test
    void theAgentTellsBootedAndFactsComesBackAfterARestartAndAResetAndPowersTheGuestOff()
            throws Exception {
        try (TestVm vm =
                new TestVm(dir)
                        .template("vmrunner.powerbutton=ignore")
                        .config("powerdownTimeout: 60")) {
            vm.boot();
            vm.awaitLog("Guest booted (", WAIT);
            String booted = line(vm.log(), "Guest booted \\(([0-9.]+) s[^\\n]*");
            System.out.println("GuestRunIT: " + booted);
            assertTrue(booted.contains("vmrunner test guest, host name vmrunner-guest"), booted);

            JsonObject guest =
                    await(
                                    "the guest facts in the status",
                                    () -> StatusIT.status(vm, "-o", "json").json(),
                                    s -> s.has("guest"))
                            .getAsJsonObject("guest");
            assertTrue(guest.get("booted").getAsBoolean(), guest.toString());
            assertEquals("vmrunner-guest", guest.get("hostName").getAsString());

            // The agent dies and is restarted inside the guest, as systemd would restart it.
            long killed = System.nanoTime();
            vm.guestCommand("kill $(pidof qemu-ga)", WAIT);
            vm.awaitLog("Guest agent answers again", WAIT);
            System.out.printf(
                    "GuestRunIT: agent killed -> answers again %.2f s%n",
                    (System.nanoTime() - killed) / 1e9);

            // A reset: the guest boots again, and the agent says so.
            Files.writeString(
                    vm.config,
                    Files.readString(vm.config).replace("  vm:", "  resetCounter: 1\n  vm:"));
            vm.awaitLog("The VM was reset", WAIT);
            await("a second booted", () -> count(vm.log(), "Guest booted ("), n -> n == 2);

            // The guest ignores the power button: only the agent's request powers it off.
            vm.sigterm();
            vm.awaitLog("Asking the guest agent to power the guest off", WAIT);
            vm.awaitSerial("VMRUNNER-GUEST: agent shutdown poweroff", WAIT);
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
        }
    }

    @Test
    void aGuestWithoutAnAgentPowersOffByTheButton() throws Exception {
        try (TestVm vm = new TestVm(dir).template("vmrunner.agent=off").config()) {
            vm.boot();
            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
            String log = vm.log();
            assertFalse(log.contains("Asking the guest agent"), log);
            assertFalse(log.contains("Guest booted ("), log);
            assertFalse(vm.serialText().contains("agent shutdown"), vm.serialText());
        }
    }

    @Test
    void theDisplayPasswordFileIsSetBeforeTheGuestRunsAndAgainWhenItChanges() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path passwordFile = dir.resolve("display-password");
        Files.writeString(passwordFile, "first-Secret-1\n");
        try (TestVm vm =
                new TestVm(dir).template("").config("display:", "  spice:", "    port: " + port)) {
            vm.boot();
            Qmp observer = vm.observer();
            SpiceInfo spice = get(observer.display().querySpice());
            assertEquals("spice", spice.auth(), "SPICE asks for a password");
            vm.awaitLog("SPICE display password set (expiry never)", WAIT);
            JsonObject display =
                    StatusIT.status(vm, "-o", "json").json().getAsJsonObject("display");
            assertTrue(display.get("passwordSet").getAsBoolean(), display.toString());

            // A Secret update: the kubelet swaps the file; here it is renamed over.
            Path next = dir.resolve(".display-password.new");
            Files.writeString(next, "second-Secret-2\n");
            Files.move(next, passwordFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            vm.awaitLog("The display password changed; setting it again", WAIT);
            await(
                    "the password set again",
                    () -> count(vm.log(), "SPICE display password set"),
                    n -> n == 2);
            Files.writeString(dir.resolve("password-expiry"), "+3600\n");
            // The expiry file did not exist at start: it is read with the next password change.
            Files.writeString(passwordFile, "third-Secret-3\n");
            await(
                    "the password set with its expiry",
                    () -> vm.log().contains("SPICE display password set (expiry +3600)"),
                    b -> b);

            vm.sigterm();
            assertEquals(0, vm.awaitExit(WAIT), vm.log());
            String log = vm.log();
            for (String secret : new String[] {"first-Secret", "second-Secret", "third-Secret"}) {
                assertFalse(log.contains(secret), "a password in the log:\n" + log);
            }
        }
    }

    private static String line(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no match for " + regex + " in\n" + text);
        return m.group();
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
