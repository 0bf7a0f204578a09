package dev.vmrunner.config;

import static dev.vmrunner.config.ConfigLoaderTest.parse;
import static dev.vmrunner.config.ConfigLoaderTest.problem;
import static dev.vmrunner.config.ConfigLoaderTest.problems;
import static dev.vmrunner.config.ConfigLoaderTest.vm;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code vm.network[].ports} and the passt type. Lines: /Runner 1, vm 2, name 3, network 4. */
class PortsTest {

    private static String nic(String type, String ports) {
        return vm(
                "name: t",
                "network:",
                "  - type: " + type,
                ports == null ? "" : "    ports: " + ports);
    }

    private static List<PortForward> ports(String type, String ports) throws Exception {
        return parse(nic(type, ports)).vm().network().get(0).ports();
    }

    @Test
    void everySpellingOfAPort() throws Exception {
        assertEquals(
                List.of(
                        new PortForward("tcp", 22, 22),
                        new PortForward("tcp", 8080, 80),
                        new PortForward("tcp", 8443, 443),
                        new PortForward("udp", 53, 53),
                        new PortForward("udp", 5353, 53),
                        new PortForward("tcp", 2222, 22)),
                // 8443:443 unquoted is a base-60 integer to YAML 1.1: the text as written counts
                ports(
                        "passt",
                        "[22, \"8080:80\", 8443:443, 53/udp, \"5353:53/udp\", 2222:22/tcp]"));
        assertEquals(List.of(new PortForward("tcp", 8080, 80)), ports("user", "[\"8080:80\"]"));
    }

    @Test
    void noPortsByDefault() throws Exception {
        assertEquals(List.of(), ports("passt", null));
        assertEquals(List.of(), ports("user", "[]"));
        assertEquals("passt", parse(nic("passt", null)).vm().network().get(0).type());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "[0]|line 6: vm.network[0].ports[0]: a port is from 1 to 65535, got '0'",
                "['65536:80']|line 6: vm.network[0].ports[0]: a port is from 1 to 65535, got"
                        + " '65536:80'",
                "[22, 80, 22]|line 6: vm.network[0].ports[2]: tcp port 22 is forwarded twice",
                "[ssh]|line 6: vm.network[0].ports[0]: expected a port such as 22, \"8080:80\" or"
                        + " \"53/udp\" (host:guest/protocol), got 'ssh'",
                "['80/sctp']|line 6: vm.network[0].ports[0]: expected a port such as 22,"
                        + " \"8080:80\" or \"53/udp\" (host:guest/protocol), got '80/sctp'",
                "[[80]]|line 6: vm.network[0].ports[0]: expected a port such as 22, \"8080:80\" or"
                        + " \"53/udp\" (host:guest/protocol), got a list",
                "80|line 6: vm.network[0].ports: expected a list (lines starting with -), got '80'",
            })
    void badPortsNameTheKeyAndLine(String ports, String message) {
        assertEquals(message, problem(nic("passt", ports)));
    }

    @Test
    void theSameHostPortMayCarryTcpAndUdp() throws Exception {
        assertEquals(
                List.of(new PortForward("tcp", 53, 53), new PortForward("udp", 53, 53)),
                ports("passt", "[53, 53/udp]"));
    }

    @Test
    void onePasstInterfaceOnly() {
        assertEquals(
                "line 6: vm.network[1].type: only one interface can be of type passt",
                problem(vm("name: t", "network:", "  - type: passt", "  - type: passt")));
    }

    @Test
    void tooManyPorts() {
        StringBuilder many = new StringBuilder("[");
        for (int i = 1; i <= PortReader.MAX_PORTS + 1; i++) {
            many.append(i).append(i > PortReader.MAX_PORTS ? "]" : ", ");
        }
        assertEquals(
                List.of("line 6: vm.network[0].ports: more than 256 entries"),
                problems(nic("user", many.toString())));
    }
}
