package dev.vmrunner.supervisor.claim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the runner may learn about a process by its pid: {@code /proc} on Linux, a fake in tests.
 */
public interface Processes {

    /** Whether a process with this pid exists (a zombie counts as gone). */
    boolean alive(long pid);

    /** The process's executable, when it can be read. */
    Optional<Path> executable(long pid);

    /** The process's argv, empty when it cannot be read. */
    List<String> commandLine(long pid);

    /** The real thing: {@code /proc/<pid>/{stat,exe,cmdline}}. */
    Processes PROC =
            new Processes() {
                @Override
                public boolean alive(long pid) {
                    try {
                        String stat =
                                Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
                        // "pid (comm) S ...": the state follows the last ')'; Z is a zombie.
                        int end = stat.lastIndexOf(')');
                        return end < 0 || end + 2 >= stat.length() || stat.charAt(end + 2) != 'Z';
                    } catch (IOException e) {
                        return false;
                    }
                }

                @Override
                public Optional<Path> executable(long pid) {
                    try {
                        return Optional.of(
                                Files.readSymbolicLink(
                                        Path.of("/proc", Long.toString(pid), "exe")));
                    } catch (IOException | UnsupportedOperationException e) {
                        return Optional.empty();
                    }
                }

                @Override
                public List<String> commandLine(long pid) {
                    try {
                        byte[] raw =
                                Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
                        List<String> args = new ArrayList<>();
                        int start = 0;
                        for (int i = 0; i < raw.length; i++) {
                            if (raw[i] == 0) {
                                args.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                                start = i + 1;
                            }
                        }
                        return List.copyOf(args);
                    } catch (IOException e) {
                        return List.of();
                    }
                }
            };
}
