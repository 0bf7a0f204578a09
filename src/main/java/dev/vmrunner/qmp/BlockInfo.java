package dev.vmrunner.qmp;

/**
 * One block backend from {@code query-block}.
 *
 * @param device the backend (drive) name; empty for backends created with {@code -blockdev}
 * @param qdevId the id (or QOM path) of the attached device, null if no device is attached
 * @param removable whether the medium can be changed (CD drives)
 * @param locked whether the guest locked the tray (e.g. a mounted CD); a non-forced open then asks
 *     the guest
 * @param trayOpen tray state, null for devices without a tray
 * @param file the inserted medium's file name ({@code inserted.file}), null when empty
 */
public record BlockInfo(
        String device,
        String qdevId,
        boolean removable,
        boolean locked,
        Boolean trayOpen,
        String file) {}
