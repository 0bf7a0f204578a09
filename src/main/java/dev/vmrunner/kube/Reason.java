package dev.vmrunner.kube;

/**
 * The reasons of the Events the runner puts on its pod, as {@code kubectl get events} shows them.
 */
enum Reason {
    STARTED("VmStarted", false),
    BOOTED("Booted", false),
    STOPPING("VmStopping", false),
    POWERED_OFF("PoweredOff", false),
    STOPPED("VmStopped", false),
    STOP_REQUESTED("StopRequested", false),
    START_REQUESTED("StartRequested", false),
    RESET_REQUESTED("ResetRequested", false),
    CONFIG_REJECTED("ConfigRejected", true),
    CHANGE_APPLIED("ChangeApplied", false),
    CHANGE_PENDING("ChangePending", false),
    CHANGE_IGNORED("ChangeIgnored", false),
    CHANGE_REJECTED("ChangeRejected", true),
    NEEDS_RESTART("NeedsRestart", false),
    CD_CHANGED("CdChanged", false),
    AGENT_LOST("AgentLost", true),
    AGENT_MISBEHAVING("AgentMisbehaving", true),
    ERROR("Error", true);

    final String text;
    final boolean warning;

    Reason(String text, boolean warning) {
        this.text = text;
        this.warning = warning;
    }

    /** The reason of a live change's outcome, by its category. */
    static Reason ofChange(String kind) {
        return switch (kind) {
            case "applied" -> CHANGE_APPLIED;
            case "pending" -> CHANGE_PENDING;
            case "ignored" -> CHANGE_IGNORED;
            default -> CHANGE_REJECTED;
        };
    }
}
