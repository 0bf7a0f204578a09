package dev.vmrunner.supervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class OutcomesTest {
    @Test
    void countsByTheFirstWordOfAFewKinds() {
        Outcomes o = new Outcomes();
        o.count("applied");
        o.count("applied (VM reset)");
        o.count("rejected: QEMU said no");
        o.count("pending: the guest has locked the tray of cd0");
        o.count("ignored, the VM is not running");
        o.count("something new");
        assertEquals(
                Map.of("applied", 2L, "rejected", 1L, "pending", 1L, "ignored", 1L, "other", 1L),
                o.snapshot());
    }
}
