package dev.vmrunner.supervisor.live;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmrunner.supervisor.live.Outcome.Applied;
import dev.vmrunner.supervisor.live.Outcome.Ignored;
import dev.vmrunner.supervisor.live.Outcome.Pending;
import dev.vmrunner.supervisor.live.Outcome.Rejected;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutcomesTest {
    @Test
    void countsByKindWhateverTheDetail() {
        Outcomes o = new Outcomes();
        o.count(Applied.PLAINLY);
        o.count(new Applied("VM reset"));
        o.count(new Rejected("QEMU said no"));
        o.count(new Pending("the guest has locked the tray of cd0"));
        o.count(new Ignored(Ignored.Why.NOT_RUNNING));
        o.count(new Rejected("only 1 vCPUs: no free slot (vm.maximumCpus)", true));
        assertEquals(
                Map.of("applied", 2L, "rejected", 2L, "pending", 1L, "ignored", 1L), o.snapshot());
    }

    /** The log lines users and the end-to-end tests read. */
    @Test
    void textIsWhatTheLogSays() {
        assertEquals("applied", Applied.PLAINLY.text());
        assertEquals("applied (VM reset)", new Applied("VM reset").text());
        assertEquals("pending, applied once the VM runs", Pending.UNTIL_RUNNING.text());
        assertEquals(
                "pending: the guest has locked the tray of cd0",
                new Pending("the guest has locked the tray of cd0").text());
        assertEquals("ignored, the VM is not running", new Ignored(Ignored.Why.NOT_RUNNING).text());
        assertEquals("ignored, the VM is stopping", new Ignored(Ignored.Why.STOPPING).text());
        assertEquals(
                "ignored (only an increase resets the VM)",
                new Ignored(Ignored.Why.NOT_AN_INCREASE).text());
        assertEquals("rejected: QEMU said no", new Rejected("QEMU said no").text());
        assertEquals("rejected in part: only 2 vCPUs", new Rejected("only 2 vCPUs", true).text());
    }
}
