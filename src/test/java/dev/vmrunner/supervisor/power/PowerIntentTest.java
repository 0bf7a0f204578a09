package dev.vmrunner.supervisor.power;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.supervisor.power.PowerIntent.Next;
import dev.vmrunner.supervisor.power.PowerIntent.RunEnd;
import org.junit.jupiter.api.Test;

/** Where the VM is meant to be and what follows a run, without a loop or QEMU. */
class PowerIntentTest {

    private static RunEnd end(boolean exit, boolean asked, boolean byItself, boolean stops) {
        return new RunEnd(exit, asked, byItself, stops);
    }

    @Test
    void aCommandHoldsUntilTheFilesVmStateChanges() {
        PowerIntent intent = new PowerIntent(true);
        intent.commanded(false);
        assertFalse(intent.meantToRun());
        assertFalse(intent.fileSays(true), "the same vm.state again is no change");
        assertFalse(intent.meantToRun(), "an edit that leaves vm.state alone keeps the edge");
        assertTrue(intent.fileSays(false));
        assertFalse(intent.meantToRun());
        assertTrue(intent.fileSays(true));
        assertTrue(intent.meantToRun(), "the file's change ends the edge");
        assertFalse(intent.overridden());
    }

    @Test
    void aCommandThatAgreesWithTheFileIsNoEdge() {
        PowerIntent intent = new PowerIntent(false);
        intent.commanded(false);
        assertFalse(intent.overridden());
        intent.commanded(true);
        assertTrue(intent.overridden());
        assertEquals("running", intent.label());
    }

    @Test
    void sigtermEndsTheRunnerWhateverElseHolds() {
        PowerIntent intent = new PowerIntent(false);
        assertEquals(Next.EXIT, intent.afterRun(end(true, true, true, true)));
    }

    @Test
    void aVmMeantToBeStoppedStays() {
        PowerIntent intent = new PowerIntent(true);
        intent.commanded(false);
        assertEquals(Next.STAY_STOPPED, intent.afterRun(end(false, true, false, false)));
    }

    @Test
    void aStartDuringTheStopStartsAgain() {
        PowerIntent intent = new PowerIntent(true);
        assertEquals(Next.START_AGAIN, intent.afterRun(end(false, true, false, false)));
    }

    @Test
    void aGuestPowerOffStaysOnlyWithGuestShutdownStopsAndBecomesAnEdge() {
        PowerIntent without = new PowerIntent(true);
        assertEquals(Next.EXIT, without.afterRun(end(false, false, true, false)));
        PowerIntent with = new PowerIntent(true);
        assertEquals(Next.STAY_STOPPED, with.afterRun(end(false, false, true, true)));
        assertFalse(with.meantToRun());
        assertTrue(with.overridden(), "stopped until start or a vm.state edit");
    }

    @Test
    void anyOtherEndOfAVmMeantToRunEndsTheRunner() {
        assertEquals(Next.EXIT, new PowerIntent(true).afterRun(end(false, false, false, true)));
    }

    @Test
    void commandLinesParseAndAnswersRoundTrip() {
        assertEquals(new PowerCommand.Stop(true), PowerCommand.parse("stop --force\n"));
        assertEquals(new PowerCommand.Start(), PowerCommand.parse("start"));
        assertEquals(new PowerCommand.Reset(), PowerCommand.parse("reset"));
        assertNull(PowerCommand.parse("status"));
        assertNull(PowerCommand.parse("stop --now"));
        assertEquals(Answer.ok("done"), Answer.parse(Answer.ok("done").line()));
        assertEquals(Answer.refused("no"), Answer.parse(Answer.refused("no").line()));
        assertTrue(Answer.parse("error: unknown request").refused(), "an older runner's answer");
    }
}
