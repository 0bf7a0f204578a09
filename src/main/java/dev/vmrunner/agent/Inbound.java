package dev.vmrunner.agent;

/**
 * What arrived on the agent's socket, as {@link AgentChannel} cuts it: a line (one JSON message) or
 * the 0xFF delimiter that {@code guest-sync-delimited} puts before its answer.
 */
sealed interface Inbound permits Inbound.Line, Inbound.Delimiter {

    record Line(String text) implements Inbound {}

    record Delimiter() implements Inbound {}
}
