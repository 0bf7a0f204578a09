package dev.vmrunner.config;

import java.util.Map;

/**
 * Sources for the cloud-init NoCloud seed image. Each map holds plain YAML values ({@code Map} in
 * document order, {@code List}, {@code String}, {@code Long} or {@code BigInteger}, {@code Double},
 * {@code Boolean}, {@code null}) and is deeply unmodifiable.
 *
 * @param metaData meta-data or {@code null}
 * @param userData user-data or {@code null}
 * @param networkConfig network-config or {@code null}
 */
public record CloudInit(
        Map<String, Object> metaData,
        Map<String, Object> userData,
        Map<String, Object> networkConfig) {

    public CloudInit {
        metaData = PlainValues.freezeMap(metaData);
        userData = PlainValues.freezeMap(userData);
        networkConfig = PlainValues.freezeMap(networkConfig);
    }
}
