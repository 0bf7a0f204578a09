package dev.vmrunner.reconcile;

import java.util.Map;

/**
 * What QEMU reports about the live-changeable parts of the VM.
 *
 * @param balloonActual the guest's memory as the balloon reports it ({@code query-balloon}), null
 *     when the VM has no balloon
 * @param presentCpus vCPUs QEMU has ({@code query-cpus-fast})
 * @param cds per CD device id: its state ({@code query-block})
 */
public record Observed(Long balloonActual, int presentCpus, Map<String, Cd> cds) {

    public Observed {
        cds = Map.copyOf(cds);
    }

    /** A CD drive: its medium's file (null when empty), and the tray. */
    public record Cd(String file, boolean trayOpen, boolean locked) {}
}
