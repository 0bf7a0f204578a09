package dev.vmrunner.reconcile;

import dev.vmrunner.config.Drive;
import dev.vmrunner.config.RunnerConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The part of a configuration that can be applied to a running VM.
 *
 * @param currentRam balloon target in bytes
 * @param currentCpus vCPUs that should be present
 * @param cdMedia per {@code ide-cd} drive, in order (ids cd0, cd1, ...): the medium's file,
 *     or null for an empty drive
 */
public record Desired(long currentRam, int currentCpus, List<String> cdMedia) {

    public Desired {
        cdMedia = java.util.Collections.unmodifiableList(new ArrayList<>(cdMedia));
    }

    public static Desired of(RunnerConfig config) {
        List<String> media = new ArrayList<>();
        for (Drive drive : config.vm().drives()) {
            if (drive.isCd()) {
                media.add(drive.file());
            }
        }
        return new Desired(config.vm().currentRam(), config.vm().currentCpus(), media);
    }

    /** The QEMU device id of the n-th CD drive, as the standard template names it. */
    public static String cdId(int index) {
        return "cd" + index;
    }
}
