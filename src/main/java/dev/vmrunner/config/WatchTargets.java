package dev.vmrunner.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The directory entries whose change can change what reading a path returns: the entry of the file
 * itself and every symbolic link met on the way to it, each in its real directory.
 *
 * <p>This is what {@code realpath(3)} walks, but it records where each link lives. For a Kubernetes
 * ConfigMap volume, {@code vol/config.yaml -> ..data/config.yaml} and {@code vol/..data ->
 * ..2024_01_01_00_00_00.1} give {@code vol: [config.yaml, ..data]} and {@code
 * vol/..2024_01_01_00_00_00.1: [config.yaml]}; the kubelet's update shows up as {@code ENTRY_CREATE
 * ..data}, never as an event that names {@code config.yaml}.
 */
final class WatchTargets {
    /** Linux gives up after 40 links ({@code ELOOP}); so do we. */
    private static final int MAX_LINKS = 40;

    private WatchTargets() {}

    /**
     * Resolves {@code file} (absolute) as far as it exists. A missing component ends the walk; its
     * entry is still recorded so that its creation is seen.
     *
     * @return real directory → names of the entries in it that matter, in walk order
     */
    static Map<Path, Set<String>> of(Path file) {
        Map<Path, Set<String>> targets = new LinkedHashMap<>();
        Deque<String> todo = new ArrayDeque<>();
        pushFront(todo, file);
        Path dir = file.getRoot();
        int links = 0;
        while (!todo.isEmpty()) {
            String name = todo.pop();
            if (name.equals(".")) {
                continue;
            }
            if (name.equals("..")) {
                // dir holds no symbolic links, so its lexical parent is its real parent.
                dir = dir.getParent() == null ? dir : dir.getParent();
                continue;
            }
            Path entry = dir.resolve(name);
            if (Files.isSymbolicLink(entry)) {
                targets.computeIfAbsent(dir, d -> new LinkedHashSet<>()).add(name);
                Path target = readLink(entry);
                if (target == null || ++links > MAX_LINKS) {
                    break;
                }
                if (target.isAbsolute()) {
                    dir = target.getRoot();
                }
                pushFront(todo, target);
            } else if (todo.isEmpty() || !Files.isDirectory(entry)) {
                targets.computeIfAbsent(dir, d -> new LinkedHashSet<>()).add(name);
                break;
            } else {
                dir = entry;
            }
        }
        return targets;
    }

    private static Path readLink(Path link) {
        try {
            return Files.readSymbolicLink(link);
        } catch (IOException e) {
            return null; // replaced while we looked; the event for that is on its way
        }
    }

    private static void pushFront(Deque<String> todo, Path path) {
        List<String> names = new ArrayList<>();
        for (Path name : path) {
            names.add(name.toString());
        }
        for (int i = names.size() - 1; i >= 0; i--) {
            todo.push(names.get(i));
        }
    }
}
