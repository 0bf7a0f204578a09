package dev.vmrunner.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmrunner.config.CloudInit;
import dev.vmrunner.config.ConfigLoader;
import dev.vmrunner.config.RunnerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

class CloudInitSeedTest {

    @TempDir Path dir;

    static RunnerConfig config(Path dir, String cloudInit) throws Exception {
        String yaml =
                "\"/Runner\":\n  dataDir: "
                        + dir.resolve("data")
                        + "\n  runtimeDir: "
                        + dir.resolve("run")
                        + "\n  vm:\n    name: seed\n  cloudInit:\n"
                        + cloudInit.indent(4);
        return ConfigLoader.parse(yaml, dir.resolve("config.yaml"), Map.of());
    }

    static CloudInit cloudInit(String yaml) throws Exception {
        return config(Path.of("/tmp/unused"), yaml).cloudInit();
    }

    static Object parse(String yaml) {
        return new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    }

    static final String DATA =
            """
            metaData:
              local-hostname: seed
            userData:
              users:
                - name: admin
                  ssh_authorized_keys: [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyThatIsLongerThanEightyCharacters admin@example" ]
              runcmd:
                - [ sh, -c, "echo hello > /tmp/hello" ]
              write_files:
                - path: /etc/motd
                  content: |
                    Welcome
                    to the VM
            networkConfig:
              version: 2
              ethernets:
                eth0: { dhcp4: true }
            """;

    @Test
    void filesHoldTheConfiguredDataAndAGeneratedInstanceId() throws Exception {
        CloudInit ci = cloudInit(DATA);
        Map<String, String> files = CloudInitSeed.files(ci);
        assertEquals(
                List.of("meta-data", "user-data", "network-config"), List.copyOf(files.keySet()));

        Map<?, ?> meta = (Map<?, ?>) parse(files.get("meta-data"));
        assertEquals(CloudInitSeed.instanceId(ci), meta.get("instance-id"));
        assertTrue(files.get("meta-data").startsWith("instance-id: iid-"), files.get("meta-data"));
        assertEquals("seed", meta.get("local-hostname"));

        String user = files.get("user-data");
        assertTrue(user.startsWith("#cloud-config\n"), user);
        assertEquals(parse(DATA) instanceof Map<?, ?> m ? m.get("userData") : null, parse(user));
        // Multi-line strings stay readable; long keys stay on one line.
        assertTrue(user.contains("content: |\n"), user);
        assertTrue(
                user.contains(
                        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyThatIsLonger"
                                + "ThanEightyCharacters admin@example"),
                user);

        assertEquals(
                ((Map<?, ?>) parse(DATA)).get("networkConfig"), parse(files.get("network-config")));
    }

    @Test
    void instanceIdDependsOnTheCloudInitDataOnly() throws Exception {
        String id = CloudInitSeed.instanceId(cloudInit(DATA));
        assertTrue(id.matches("iid-[0-9a-f]{16}"), id);
        // Same data: same id, also with keys in another order, and whatever else changes.
        assertEquals(id, CloudInitSeed.instanceId(cloudInit(DATA)));
        assertEquals(
                id, CloudInitSeed.instanceId(config(dir.resolve("elsewhere"), DATA).cloudInit()));
        String reordered =
                DATA.replace(
                        """
                        networkConfig:
                          version: 2
                          ethernets:
                            eth0: { dhcp4: true }
                        """,
                        """
                        networkConfig:
                          ethernets:
                            eth0: { dhcp4: true }
                          version: 2
                        """);
        assertNotEquals(DATA, reordered);
        assertEquals(id, CloudInitSeed.instanceId(cloudInit(reordered)));
        // Changed data: another id.
        assertNotEquals(id, CloudInitSeed.instanceId(cloudInit(DATA.replace("hello", "bye"))));
        assertNotEquals(
                id,
                CloudInitSeed.instanceId(
                        cloudInit(DATA.replace("local-hostname: seed", "local-hostname: other"))));
    }

    @Test
    void configuredInstanceIdIsKept() throws Exception {
        Map<String, String> files =
                CloudInitSeed.files(
                        cloudInit(
                                """
                                metaData:
                                  instance-id: my-id
                                """));
        assertEquals("instance-id: my-id\n", files.get("meta-data"));
        assertEquals("#cloud-config\n", files.get("user-data"));
        assertFalse(files.containsKey("network-config"));
    }

    @Test
    void writesTheSourcesAtomicallyAndDropsAStaleNetworkConfig() throws Exception {
        RunnerConfig config = config(dir, DATA);
        Files.createDirectories(config.dataDir());
        CloudInitSeed.write(config);
        Path seedDir = config.dataDir().resolve("cloud-init");
        assertEquals(
                CloudInitSeed.files(config.cloudInit()).get("user-data"),
                Files.readString(seedDir.resolve("user-data")));
        assertTrue(Files.exists(seedDir.resolve("network-config")));
        assertEquals(
                List.of(
                        seedDir.resolve("meta-data"),
                        seedDir.resolve("user-data"),
                        seedDir.resolve("network-config")),
                CloudInitSeed.sources(config));

        RunnerConfig without = config(dir, "userData: {}\n");
        CloudInitSeed.write(without);
        assertFalse(Files.exists(seedDir.resolve("network-config")));
        assertEquals(2, CloudInitSeed.sources(without).size());
        try (var files = Files.list(seedDir)) {
            assertEquals(2, files.count(), "temporary files left behind");
        }
    }
}
