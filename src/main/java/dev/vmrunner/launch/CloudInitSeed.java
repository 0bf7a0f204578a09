package dev.vmrunner.launch;

import dev.vmrunner.config.CloudInit;
import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.RuntimeFiles;
import dev.vmrunner.files.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Represent;
import org.yaml.snakeyaml.representer.Representer;

/**
 * The cloud-init NoCloud seed: the files {@code meta-data}, {@code user-data} and optionally {@code
 * network-config}, kept as sources in {@code <dataDir>/cloud-init/}, and the ISO 9660 image (volume
 * label {@code CIDATA}) that the template's {@code cloudInitImg} process makes from them in the
 * runtime directory before QEMU starts.
 *
 * <p>cloud-init provisions a guest again whenever the {@code instance-id} changes. When the
 * configuration gives none, it is derived from the cloud-init data alone, so it stays the same
 * while that data is unchanged, whatever else changes in the configuration file.
 */
public final class CloudInitSeed {

    /** Directory in the data directory that holds the source files. */
    public static final String DIR = "cloud-init";

    /** The image in the runtime directory. */
    public static final String IMAGE = RuntimeFiles.SEED_IMAGE;

    static final String META_DATA = "meta-data";
    static final String USER_DATA = "user-data";
    static final String NETWORK_CONFIG = "network-config";
    static final String USER_DATA_HEADER = "#cloud-config\n";

    private CloudInitSeed() {}

    /** Where the image is made. */
    public static Path image(RunnerConfig config) {
        return config.runtimeDir().resolve(IMAGE).toAbsolutePath();
    }

    /** The source files that go into the image, in the order the template lists them. */
    public static List<Path> sources(RunnerConfig config) {
        Path dir = config.dataDir().resolve(DIR).toAbsolutePath();
        List<Path> files = new ArrayList<>(3);
        files.add(dir.resolve(META_DATA));
        files.add(dir.resolve(USER_DATA));
        if (config.cloudInit().networkConfig() != null) {
            files.add(dir.resolve(NETWORK_CONFIG));
        }
        return files;
    }

    /** Writes the source files (atomically) into the data directory. */
    public static void write(RunnerConfig config) throws LaunchException {
        Path dir = config.dataDir().resolve(DIR);
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectory(
                        dir,
                        PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rwx------")));
            }
            for (Map.Entry<String, String> file : files(config.cloudInit()).entrySet()) {
                AtomicFiles.write(
                        dir.resolve(file.getKey()),
                        file.getValue().getBytes(StandardCharsets.UTF_8));
            }
            if (config.cloudInit().networkConfig() == null) {
                // No longer configured: a stale file must not look like the current one.
                Files.deleteIfExists(dir.resolve(NETWORK_CONFIG));
            }
        } catch (IOException e) {
            throw new LaunchException(
                    "Failed to write the cloud-init files into " + dir + ": " + e.getMessage(), e);
        }
    }

    /** File name → content of the seed's files. */
    static Map<String, String> files(CloudInit cloudInit) {
        Map<String, String> files = new LinkedHashMap<>();
        Map<String, Object> meta = new LinkedHashMap<>();
        if (cloudInit.metaData() == null || !cloudInit.metaData().containsKey("instance-id")) {
            meta.put("instance-id", instanceId(cloudInit));
        }
        if (cloudInit.metaData() != null) {
            meta.putAll(cloudInit.metaData());
        }
        files.put(META_DATA, dump(meta));
        Map<String, Object> user = cloudInit.userData();
        files.put(USER_DATA, USER_DATA_HEADER + (user == null || user.isEmpty() ? "" : dump(user)));
        if (cloudInit.networkConfig() != null) {
            files.put(NETWORK_CONFIG, dump(cloudInit.networkConfig()));
        }
        return files;
    }

    /**
     * The instance-id used when meta-data gives none: a hash over the cloud-init data, with the
     * keys of every mapping sorted, so that reordering keys does not change it either.
     */
    static String instanceId(CloudInit cloudInit) {
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("metaData", cloudInit.metaData());
        all.put("userData", cloudInit.userData());
        all.put("networkConfig", cloudInit.networkConfig());
        String canonical = dump(sorted(all));
        try {
            byte[] hash =
                    MessageDigest.getInstance("SHA-256")
                            .digest(canonical.getBytes(StandardCharsets.UTF_8));
            return "iid-" + HexFormat.of().formatHex(hash, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    private static Object sorted(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new TreeMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), sorted(v)));
            return out;
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(v -> out.add(sorted(v)));
            return out;
        }
        return value;
    }

    private static String dump(Object value) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        options.setIndicatorIndent(0);
        options.setSplitLines(false);
        options.setAllowUnicode(true);
        return new Yaml(new BlockStrings(options), options).dump(value);
    }

    /**
     * Writes strings with line breaks as literal blocks ({@code |}), as people write them;
     * SnakeYAML falls back to a quoted string where a block cannot hold the text exactly.
     */
    private static final class BlockStrings extends Representer {
        BlockStrings(DumperOptions options) {
            super(options);
            Represent plain = representers.get(String.class);
            representers.put(
                    String.class,
                    data ->
                            ((String) data).indexOf('\n') >= 0
                                    ? representScalar(
                                            Tag.STR,
                                            (String) data,
                                            DumperOptions.ScalarStyle.LITERAL)
                                    : plain.representData(data));
        }
    }
}
