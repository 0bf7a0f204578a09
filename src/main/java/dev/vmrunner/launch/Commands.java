package dev.vmrunner.launch;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The processes of one VM, in start order. Absent helpers are not needed by this config. */
public record Commands(
        Optional<ProcessSpec> swtpm,
        Optional<ProcessSpec> cloudInitImg,
        Optional<ProcessSpec> passt,
        ProcessSpec qemu) {

    /** The processes of a VM without passt. */
    public Commands(
            Optional<ProcessSpec> swtpm, Optional<ProcessSpec> cloudInitImg, ProcessSpec qemu) {
        this(swtpm, cloudInitImg, Optional.empty(), qemu);
    }

    /**
     * Whether QEMU starts paused, as the template contract asks: otherwise the guest runs before
     * the runner has configured it (balloon target, SPICE password).
     */
    public boolean qemuStartsPaused() {
        return qemu.arguments().contains("-S");
    }

    public List<ProcessSpec> inStartOrder() {
        List<ProcessSpec> all = new ArrayList<>(4);
        swtpm.ifPresent(all::add);
        cloudInitImg.ifPresent(all::add);
        passt.ifPresent(all::add);
        all.add(qemu);
        return all;
    }

    /**
     * What {@code vmrunner render} prints: per process a line {@code # <name>}, its environment as
     * {@code ## env NAME=value} lines, then its argv, one argument per line.
     */
    public String listing() {
        StringBuilder out = new StringBuilder();
        for (ProcessSpec process : inStartOrder()) {
            out.append("# ").append(process.name()).append('\n');
            process.environment()
                    .forEach(
                            (k, v) ->
                                    out.append("## env ")
                                            .append(k)
                                            .append('=')
                                            .append(v)
                                            .append('\n'));
            process.argv().forEach(arg -> out.append(arg).append('\n'));
        }
        return out.toString();
    }
}
