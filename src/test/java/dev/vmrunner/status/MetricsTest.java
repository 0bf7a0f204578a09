package dev.vmrunner.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The metrics text, rendered and parsed back by the rules of the text format 0.0.4. */
class MetricsTest {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final long M = 1 << 20;

    /** A family: its type, help, and samples by {@code name{labels}}. */
    record Family(String type, String help, Map<String, Double> samples) {}

    private static final Pattern SAMPLE =
            Pattern.compile(
                    "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n"
                            + "]|\\\\[\\\\\"n])*\",?)*\\})? (\\S+)");

    /** Parses the text strictly: every sample belongs to the family declared just before it. */
    static Map<String, Family> parse(String text) {
        assertTrue(text.endsWith("\n"), "ends with a newline");
        Map<String, Family> families = new LinkedHashMap<>();
        String current = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                String[] parts = line.substring(7).split(" ", 2);
                current = parts[0];
                assertFalse(families.containsKey(current), "one HELP per family: " + current);
                families.put(current, new Family(null, parts[1], new LinkedHashMap<>()));
            } else if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ");
                assertEquals(current, parts[0], "TYPE follows HELP");
                Family f = families.get(current);
                families.put(current, new Family(parts[1], f.help(), f.samples()));
            } else {
                Matcher m = SAMPLE.matcher(line);
                assertTrue(m.matches(), "a sample line: " + line);
                String name = m.group(1);
                assertTrue(
                        name.equals(current)
                                || name.equals(current + "_sum")
                                || name.equals(current + "_count"),
                        name + " in family " + current);
                String key = name + (m.group(2) == null ? "" : m.group(2));
                assertFalse(families.get(current).samples().containsKey(key), "once: " + key);
                families.get(current).samples().put(key, Double.parseDouble(m.group(3)));
            }
        }
        return families;
    }

    static Status status(String state, Long pid, Long actual, Integer present, Status.Guest g) {
        return new Status(
                "web",
                state,
                T0.plusSeconds(10),
                T0,
                null,
                pid,
                null,
                new Status.Ram(1024 * M, 512 * M, actual),
                new Status.Cpus(4, 2, present),
                List.of(),
                List.of(),
                List.of(),
                Map.of(),
                null,
                null,
                g);
    }

    static Status running(Status.Guest guest) {
        return status("running", 123L, 500 * M, 2, guest);
    }

    static final Metrics.Counters COUNTERS =
            new Metrics.Counters(
                    Map.of(
                            "query-status", new Metrics.Command(3, 0.0015, 0),
                            "device_add", new Metrics.Command(2, 1.5, 1)),
                    Map.of("applied", 4L, "rejected", 1L));

    @Test
    void aRunningVm() {
        Map<String, Family> f = parse(Metrics.render(running(null), COUNTERS, T0.plusSeconds(70)));
        assertEquals(1.0, sample(f, "vmrunner_vm_state", "vmrunner_vm_state{state=\"running\"}"));
        assertEquals(0.0, sample(f, "vmrunner_vm_state", "vmrunner_vm_state{state=\"starting\"}"));
        assertEquals(5, f.get("vmrunner_vm_state").samples().size());
        assertEquals(1.0, sample(f, "vmrunner_vm_info", "vmrunner_vm_info{name=\"web\"}"));
        assertEquals(1024.0 * M, only(f, "vmrunner_ram_maximum_bytes"));
        assertEquals(512.0 * M, only(f, "vmrunner_ram_target_bytes"));
        assertEquals(500.0 * M, only(f, "vmrunner_ram_actual_bytes"));
        assertEquals(4.0, only(f, "vmrunner_vcpus_maximum"));
        assertEquals(2.0, only(f, "vmrunner_vcpus_target"));
        assertEquals(2.0, only(f, "vmrunner_vcpus_present"));
        assertEquals(70.0, only(f, "vmrunner_runner_uptime_seconds"));
        assertEquals(60.0, only(f, "vmrunner_vm_uptime_seconds"));
        assertEquals(0.0, only(f, "vmrunner_powerdown_in_progress"));
        assertEquals(0.0, only(f, "vmrunner_guest_booted"));
        assertFalse(f.containsKey("vmrunner_guest_info"), "no guest facts yet");
        String qmp = "vmrunner_qmp_command_duration_seconds";
        assertEquals("summary", f.get(qmp).type());
        assertEquals(1.5, sample(f, qmp, qmp + "_sum{command=\"device_add\"}"));
        assertEquals(2.0, sample(f, qmp, qmp + "_count{command=\"device_add\"}"));
        assertEquals(0.0015, sample(f, qmp, qmp + "_sum{command=\"query-status\"}"));
        String errors = "vmrunner_qmp_command_errors_total";
        assertEquals(1.0, sample(f, errors, errors + "{command=\"device_add\"}"));
        String rec = "vmrunner_reconciliations_total";
        assertEquals(4.0, sample(f, rec, rec + "{outcome=\"applied\"}"));
        assertEquals(1.0, sample(f, rec, rec + "{outcome=\"rejected\"}"));
    }

    @Test
    void aVmStoppedOnPurposeIsReadyAndSaysWhereItIsMeantToBe() {
        Status r = status("stopped", null, null, 2, null);
        Status stopped =
                new Status(
                        r.name(),
                        r.state(),
                        r.since(),
                        r.runnerStarted(),
                        null,
                        null,
                        null,
                        r.ram(),
                        r.cpus(),
                        r.drives(),
                        r.pending(),
                        r.needsRestart(),
                        r.lastChanges(),
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        Status.STOPPED);
        Map<String, Family> f = parse(Metrics.render(stopped, COUNTERS, T0));
        String desired = "vmrunner_vm_desired_state";
        assertEquals(1.0, sample(f, desired, desired + "{state=\"stopped\"}"));
        assertEquals(0.0, sample(f, desired, desired + "{state=\"running\"}"));
        assertEquals(1.0, only(f, "vmrunner_vm_ready"));
        assertFalse(f.containsKey("vmrunner_vm_uptime_seconds"), "no uptime while stopped");
        assertTrue(StatusJson.of(stopped).get("ready").getAsBoolean());
        assertEquals("stopped", StatusJson.of(stopped).get("desiredState").getAsString());
        // A VM that stopped although meant to run is not ready.
        assertFalse(status("stopped", null, null, 2, null).ready());
    }

    @Test
    void namesFollowPrometheusConventions() {
        Status s = running(new Status.Guest(true, T0, "Debian", "web", "UTC", List.of()));
        Map<String, Family> f = parse(Metrics.render(s, COUNTERS, T0));
        for (Map.Entry<String, Family> e : f.entrySet()) {
            String name = e.getKey();
            Family family = e.getValue();
            assertTrue(name.startsWith("vmrunner_"), name);
            assertNotNull(family.type(), "TYPE of " + name);
            assertFalse(family.help().isBlank(), "HELP of " + name);
            assertEquals(
                    family.type().equals("counter"), name.endsWith("_total"), "_total: " + name);
            if (name.endsWith("_info")) {
                assertEquals("gauge", family.type());
                family.samples().values().forEach(v -> assertEquals(1.0, v));
            }
            assertFalse(name.contains("millis") || name.contains("kib"), "base units: " + name);
        }
    }

    @Test
    void guestFactsAreLabelsEscapedAndBounded() {
        String os = "Debian \"trixie\"\\\n" + "x".repeat(300);
        Status s = running(new Status.Guest(true, T0, os, "web", "UTC", List.of()));
        Map<String, Family> f = parse(Metrics.render(s, COUNTERS, T0));
        assertEquals(1.0, only(f, "vmrunner_guest_booted"));
        String key = f.get("vmrunner_guest_info").samples().keySet().iterator().next();
        assertTrue(key.startsWith("vmrunner_guest_info{os=\"Debian \\\"trixie\\\"\\\\\\nxxx"), key);
        assertTrue(key.endsWith("\",hostname=\"web\"}"), key);
        assertTrue(key.length() < 200, key);
    }

    @Test
    void whatIsUnknownIsLeftOut() {
        Status starting = status("starting", null, null, null, null);
        Map<String, Family> f =
                parse(Metrics.render(starting, new Metrics.Counters(Map.of(), Map.of()), T0));
        assertFalse(f.containsKey("vmrunner_ram_actual_bytes"));
        assertFalse(f.containsKey("vmrunner_vcpus_present"));
        assertFalse(f.containsKey("vmrunner_vm_uptime_seconds"));
        assertTrue(f.get("vmrunner_reconciliations_total").samples().isEmpty());
        assertEquals(1.0, sample(f, "vmrunner_vm_state", "vmrunner_vm_state{state=\"starting\"}"));
    }

    private static double only(Map<String, Family> f, String name) {
        assertTrue(f.containsKey(name), name);
        assertEquals("gauge", f.get(name).type(), name);
        return sample(f, name, name);
    }

    private static double sample(Map<String, Family> f, String family, String key) {
        assertTrue(f.containsKey(family), family);
        Double v = f.get(family).samples().get(key);
        assertNotNull(v, key + " in " + f.get(family).samples());
        return v;
    }

    /** The last rejected edit: in /metrics and in the status JSON. */
    @Test
    void aRejectedEditIsCarried() {
        Status ok = running(null);
        Map<String, Family> f = parse(Metrics.render(ok, COUNTERS, T0.plusSeconds(70)));
        assertEquals(0.0, only(f, "vmrunner_config_rejected"));
        assertTrue(StatusJson.of(ok).get("rejectedEdit").isJsonNull());

        Status.RejectedEdit edit =
                new Status.RejectedEdit(
                        T0.plusSeconds(30),
                        List.of("line 5: vm.currentRam: 4G is larger than vm.maximumRam (1G)"));
        Status rejected =
                new Status(
                        ok.name(),
                        ok.state(),
                        ok.since(),
                        ok.runnerStarted(),
                        ok.adoptedAt(),
                        ok.qemuPid(),
                        ok.swtpmPid(),
                        ok.ram(),
                        ok.cpus(),
                        ok.drives(),
                        ok.pending(),
                        ok.needsRestart(),
                        ok.lastChanges(),
                        ok.powerdownDeadline(),
                        ok.lastError(),
                        ok.guest(),
                        ok.display(),
                        edit,
                        ok.migration(),
                        ok.desiredState());
        f = parse(Metrics.render(rejected, COUNTERS, T0.plusSeconds(70)));
        assertEquals(
                1.0,
                sample(
                        f,
                        "vmrunner_config_rejected",
                        "vmrunner_config_rejected{problem=\"line 5: vm.currentRam: 4G is larger"
                                + " than vm.maximumRam (1G)\"}"));
        assertEquals(
                (double) T0.plusSeconds(30).getEpochSecond(),
                only(f, "vmrunner_config_rejected_timestamp_seconds"));
        var json = StatusJson.of(rejected).getAsJsonObject("rejectedEdit");
        assertEquals(T0.plusSeconds(30).toString(), json.get("at").getAsString());
        assertEquals(edit.problems().get(0), json.getAsJsonArray("problems").get(0).getAsString());
    }
}
