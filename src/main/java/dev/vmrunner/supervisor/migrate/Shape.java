package dev.vmrunner.supervisor.migrate;

import dev.vmrunner.config.Drive;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.Vm;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What two runners of one VM must agree on for QEMU's migration stream to fit: the machine QEMU is
 * started with (template, firmware, RAM size, vCPU topology, TPM) and the disks. Compared before
 * any guest state moves; QEMU checks the rest (machine type, RAM blocks, devices) on the stream.
 * Pure.
 */
public record Shape(Map<String, String> facts) {

    /** At most this many lines are read from a target's facts (a hostile file stays small). */
    static final int MAX_LINES = 200;

    public Shape {
        facts = Map.copyOf(facts);
    }

    /** The shape of the VM that {@code started} describes (what QEMU is started with). */
    public static Shape of(RunnerConfig started) {
        Vm vm = started.vm();
        Map<String, String> f = new LinkedHashMap<>();
        f.put("vm.name", vm.name());
        f.put("vm.uuid", String.valueOf(vm.uuid()));
        f.put("template", String.valueOf(started.template()));
        f.put("vm.firmware", vm.firmware().toString());
        f.put("vm.useTpm", String.valueOf(vm.useTpm()));
        f.put("vm.maximumRam", String.valueOf(vm.maximumRam()));
        f.put("vm.maximumCpus", String.valueOf(vm.maximumCpus()));
        f.put("vm.currentCpus", String.valueOf(vm.currentCpus()));
        f.put(
                "vm.topology",
                vm.sockets()
                        + "/"
                        + vm.diesPerSocket()
                        + "/"
                        + vm.coresPerSocket()
                        + "/"
                        + vm.threadsPerCore());
        f.put("vm.cpuModel", String.valueOf(vm.cpuModel()));
        List<String> disks = new ArrayList<>();
        for (Drive d : vm.drives()) {
            if (Drive.RAW.equals(d.type())) {
                disks.add(d.file() != null ? d.file() : String.valueOf(d.device()));
            }
        }
        f.put("vm.drives", String.join(" ", disks));
        return new Shape(f);
    }

    /** The lines {@link #parse} reads back. */
    public String text() {
        StringBuilder text = new StringBuilder();
        facts.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(
                        e -> text.append(e.getKey()).append('=').append(e.getValue()).append('\n'));
        return text.toString();
    }

    /**
     * Reads {@link #text}; lines without {@code =} and lines past {@link #MAX_LINES} are skipped.
     */
    public static Shape parse(String text) {
        Map<String, String> f = new LinkedHashMap<>();
        String[] lines = text.split("\n", MAX_LINES + 1);
        for (int i = 0; i < Math.min(lines.length, MAX_LINES); i++) {
            int eq = lines[i].indexOf('=');
            if (eq > 0) {
                f.put(lines[i].substring(0, eq), lines[i].substring(eq + 1));
            }
        }
        return new Shape(f);
    }

    /**
     * Where {@code target} differs from this shape, one "key: here vs there" each; empty if none.
     */
    public List<String> differences(Shape target) {
        List<String> differ = new ArrayList<>();
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(facts).entrySet()) {
            String there = target.facts.get(e.getKey());
            if (!e.getValue().equals(there)) {
                differ.add(
                        e.getKey()
                                + ": "
                                + e.getValue()
                                + " here, "
                                + (there == null ? "not given" : there)
                                + " on the target");
            }
        }
        return differ;
    }
}
