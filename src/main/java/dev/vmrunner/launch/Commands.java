package dev.vmrunner.launch;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The processes of one VM, in start order. Absent helpers are not needed by this config. */
public record Commands(Optional<ProcessSpec> swtpm, Optional<ProcessSpec> cloudInitImg,
        ProcessSpec qemu) {

    public List<ProcessSpec> inStartOrder() {
        List<ProcessSpec> all = new ArrayList<>(3);
        swtpm.ifPresent(all::add);
        cloudInitImg.ifPresent(all::add);
        all.add(qemu);
        return all;
    }
}
