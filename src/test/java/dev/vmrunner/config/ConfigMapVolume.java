package dev.vmrunner.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Publishes a ConfigMap volume the way the kubelet's AtomicWriter does
 * (pkg/volume/util/atomic_writer.go); a Java port of the simulation in the project's research notes
 * (shared/research/kubernetes-and-containers.md §5, outside this repository), which were checked
 * against a real kubelet.
 */
public final class ConfigMapVolume {
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyy_MM_dd_HH_mm_ss.");

    private ConfigMapVolume() {}

    /**
     * First call mounts, later calls update: new timestamp dir, rename over ..data, old dir
     * removed.
     */
    public static void publish(Path dir, String key, String content) throws IOException {
        Files.createDirectories(dir);
        Path data = dir.resolve("..data");
        Path old = Files.isSymbolicLink(data) ? Files.readSymbolicLink(data) : null;
        String ts =
                ".."
                        + LocalDateTime.now(ZoneOffset.UTC).format(STAMP)
                        + Integer.toUnsignedString(ThreadLocalRandom.current().nextInt());
        Path tsDir = Files.createDirectory(dir.resolve(ts));
        Files.writeString(tsDir.resolve(key), content);
        Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of(ts));
        Files.move(tmp, data, StandardCopyOption.ATOMIC_MOVE); // rename(2) over the old link
        Path visible = dir.resolve(key);
        if (!Files.isSymbolicLink(visible)) {
            Files.createSymbolicLink(visible, Path.of("..data", key));
        }
        if (old != null) {
            Path o = dir.resolve(old);
            try (var s = Files.list(o)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(o);
        }
    }
}
