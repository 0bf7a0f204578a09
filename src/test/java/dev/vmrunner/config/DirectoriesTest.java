package dev.vmrunner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Default and configured directories, for each combination of the environment. */
class DirectoriesTest {
    static final String YAML = ConfigLoaderTest.vm("name: dir-vm");

    static RunnerConfig parse(String yaml, Path file, String... env) throws ConfigException {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < env.length; i += 2) {
            map.put(env[i], env[i + 1]);
        }
        return ConfigLoader.parse(yaml, file, map);
    }

    static RunnerConfig parse(String... env) throws ConfigException {
        return parse(YAML, ConfigLoaderTest.CONFIG, env);
    }

    @Test
    void xdgVariablesComeFirst() throws ConfigException {
        RunnerConfig config =
                parse(
                        "XDG_DATA_HOME",
                        "/xdg/data",
                        "XDG_RUNTIME_DIR",
                        "/run/user/7",
                        "HOME",
                        "/home/u",
                        "USER",
                        "u");
        assertEquals(Path.of("/xdg/data/vmrunner/dir-vm"), config.dataDir());
        assertEquals(Path.of("/run/user/7/vmrunner/dir-vm"), config.runtimeDir());
    }

    @Test
    void homeAndUserAreTheFallback() throws ConfigException {
        RunnerConfig config = parse("HOME", "/home/u", "USER", "u");
        assertEquals(Path.of("/home/u/.local/share/vmrunner/dir-vm"), config.dataDir());
        assertEquals(Path.of("/tmp/u/vmrunner/dir-vm"), config.runtimeDir());
    }

    @Test
    void onlyOneXdgVariable() throws ConfigException {
        RunnerConfig data = parse("XDG_DATA_HOME", "/xdg/data", "USER", "u");
        assertEquals(Path.of("/xdg/data/vmrunner/dir-vm"), data.dataDir());
        assertEquals(Path.of("/tmp/u/vmrunner/dir-vm"), data.runtimeDir());
        RunnerConfig runtime = parse("XDG_RUNTIME_DIR", "/run/user/7", "HOME", "/home/u");
        assertEquals(Path.of("/home/u/.local/share/vmrunner/dir-vm"), runtime.dataDir());
        assertEquals(Path.of("/run/user/7/vmrunner/dir-vm"), runtime.runtimeDir());
    }

    @Test
    void emptyEnvironment() throws ConfigException {
        RunnerConfig config = parse();
        assertEquals(Path.of("").toAbsolutePath().resolve("dir-vm"), config.dataDir());
        assertEquals(Path.of("/tmp/vmrunner/dir-vm"), config.runtimeDir());
    }

    @Test
    void emptyRelativeOrOddValuesAreIgnored() throws ConfigException {
        RunnerConfig config =
                parse(
                        "XDG_DATA_HOME",
                        "",
                        "XDG_RUNTIME_DIR",
                        "relative/run",
                        "HOME",
                        "",
                        "USER",
                        "../etc");
        assertEquals(Path.of("").toAbsolutePath().resolve("dir-vm"), config.dataDir());
        assertEquals(Path.of("/tmp/vmrunner/dir-vm"), config.runtimeDir());
        RunnerConfig relativeHome = parse("HOME", "home/u", "USER", "");
        assertEquals(Path.of("").toAbsolutePath().resolve("dir-vm"), relativeHome.dataDir());
        assertEquals(Path.of("/tmp/vmrunner/dir-vm"), relativeHome.runtimeDir());
    }

    @Test
    void configuredAbsoluteDirectoriesAreUsedAsGiven() throws ConfigException {
        RunnerConfig config =
                parse(
                        "\"/Runner\":\n  dataDir: /srv/data/\n"
                                + "  runtimeDir: /run/x/../vm\n"
                                + YAML.substring(YAML.indexOf("  vm:")),
                        ConfigLoaderTest.CONFIG,
                        "XDG_DATA_HOME",
                        "/xdg");
        assertEquals(Path.of("/srv/data"), config.dataDir());
        assertEquals(Path.of("/run/vm"), config.runtimeDir());
    }

    @Test
    void configuredRelativeDirectoriesAreRelativeToTheConfigFile() throws ConfigException {
        String yaml =
                "\"/Runner\":\n  dataDir: data\n  runtimeDir: ../run\n"
                        + YAML.substring(YAML.indexOf("  vm:"));
        RunnerConfig config = parse(yaml, Path.of("/home/u/vms/test.yaml"));
        assertEquals(Path.of("/home/u/vms/test.yaml"), config.configFile());
        assertEquals(Path.of("/home/u/vms/data"), config.dataDir());
        assertEquals(Path.of("/home/u/run"), config.runtimeDir());

        RunnerConfig relativeFile = parse(yaml, Path.of("test.yaml"));
        Path cwd = Path.of("").toAbsolutePath();
        assertEquals(cwd.resolve("test.yaml"), relativeFile.configFile());
        assertEquals(cwd.resolve("data"), relativeFile.dataDir());

        RunnerConfig noFile = parse(yaml, (Path) null);
        assertEquals(null, noFile.configFile());
        assertEquals(cwd.resolve("data"), noFile.dataDir());
    }

    @Test
    void valuesAreNotExpanded() throws ConfigException {
        RunnerConfig config =
                parse(
                        "\"/Runner\":\n  dataDir: /x/$HOME\n"
                                + YAML.substring(YAML.indexOf("  vm:")),
                        ConfigLoaderTest.CONFIG,
                        "HOME",
                        "/h");
        assertEquals(Path.of("/x/$HOME"), config.dataDir());
    }

    /**
     * Root's directories are the systemd unit's ({@code StateDirectory=vmrunner}, {@code
     * RuntimeDirectory=vmrunner}) whoever starts or asks: the unit's bare environment, a root login
     * shell (whose XDG_RUNTIME_DIR is /run/user/0), sudo with the caller's HOME.
     */
    @Test
    void rootGetsTheUnitsDirectoriesWhateverTheEnvironment() throws ConfigException {
        String uid = Directories.UID;
        RunnerConfig unit =
                parse(
                        uid,
                        "0",
                        "INVOCATION_ID",
                        "x",
                        "RUNTIME_DIRECTORY",
                        "/run/vmrunner",
                        "STATE_DIRECTORY",
                        "/var/lib/vmrunner");
        RunnerConfig shell =
                parse(uid, "0", "HOME", "/root", "USER", "root", "XDG_RUNTIME_DIR", "/run/user/0");
        RunnerConfig sudo =
                parse(uid, "0", "HOME", "/home/u", "USER", "root", "XDG_DATA_HOME", "/home/u/d");
        for (RunnerConfig config : new RunnerConfig[] {unit, shell, sudo}) {
            assertEquals(Path.of("/var/lib/vmrunner/dir-vm"), config.dataDir());
            assertEquals(Path.of("/run/vmrunner/dir-vm"), config.runtimeDir());
        }
        RunnerConfig user =
                parse(uid, "1000", "HOME", "/home/u", "XDG_RUNTIME_DIR", "/run/user/1000");
        assertEquals(Path.of("/home/u/.local/share/vmrunner/dir-vm"), user.dataDir());
        assertEquals(Path.of("/run/user/1000/vmrunner/dir-vm"), user.runtimeDir());
    }

    @Test
    void theHostEnvironmentCarriesTheUid() {
        // the tests run as whichever user; /proc/self tells
        assertEquals(
                String.valueOf(new java.io.File("/proc/self").exists() ? uid() : null),
                ConfigLoader.hostEnvironment().get(Directories.UID));
    }

    private static Object uid() {
        try {
            return java.nio.file.Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
