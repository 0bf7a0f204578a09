package dev.vmrunner.reconcile;

import dev.vmrunner.config.Drive;
import dev.vmrunner.config.RunnerConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The part of a configuration that can be applied to a running VM.
 *
 * @param currentRam balloon target in bytes
 * @param currentCpus vCPUs that should be present
 * @param cdMedia per {@code ide-cd} drive, in order (ids cd0, cd1, ...): the medium's file, or null
 *     for an empty drive
 * @param cdPositions per {@code ide-cd} drive, its position in {@code vm.drives}
 * @param cdEjectRequests per {@code ide-cd} drive, whether a change asks the guest to eject a
 *     locked tray ({@code lockedTray: eject-request}) instead of waiting
 */
public record Desired(
        long currentRam,
        int currentCpus,
        List<String> cdMedia,
        List<Integer> cdPositions,
        List<Boolean> cdEjectRequests) {

    public Desired {
        cdMedia = Collections.unmodifiableList(new ArrayList<>(cdMedia));
        cdPositions = List.copyOf(cdPositions);
        cdEjectRequests = List.copyOf(cdEjectRequests);
    }

    /** CD drives that all wait for the guest's own eject. */
    public Desired(
            long currentRam, int currentCpus, List<String> cdMedia, List<Integer> cdPositions) {
        this(
                currentRam,
                currentCpus,
                cdMedia,
                cdPositions,
                Collections.nCopies(cdMedia.size(), false));
    }

    public static Desired of(RunnerConfig config) {
        List<String> media = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        List<Boolean> ejectRequests = new ArrayList<>();
        List<Drive> drives = config.vm().drives();
        for (int i = 0; i < drives.size(); i++) {
            if (drives.get(i).isCd()) {
                media.add(drives.get(i).file());
                positions.add(i);
                ejectRequests.add(drives.get(i).requestsEject());
            }
        }
        return new Desired(
                config.vm().currentRam(),
                config.vm().currentCpus(),
                media,
                positions,
                ejectRequests);
    }

    /** The configuration key of the n-th CD drive's medium. */
    public String cdKey(int index) {
        return LiveKey.cdMedium(cdPositions.get(index));
    }

    /** The QEMU device id of the n-th CD drive, as the standard template names it. */
    public static String cdId(int index) {
        return "cd" + index;
    }
}
