package dev.vmrunner.reconcile;

import dev.vmrunner.config.RunnerConfig;
import dev.vmrunner.config.Sizes;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Which keys differ between two configurations, and whether each can be applied to the running VM
 * or takes effect at the next start.
 */
public final class ChangeReport {

    /**
     * One changed key.
     *
     * @param liveKey which live key it is, null when the change waits for the next start
     */
    public record Change(String key, String before, String after, LiveKey liveKey) {

        /** Whether the running VM takes the change. */
        public boolean live() {
            return liveKey != null;
        }

        @Override
        public String toString() {
            return key + ": " + before + " -> " + after;
        }
    }

    private static final Set<String> SIZES = Set.of(LiveKey.CURRENT_RAM.path(), "vm.maximumRam");

    private ChangeReport() {}

    public static List<Change> between(RunnerConfig before, RunnerConfig after) {
        List<Change> changes = new ArrayList<>();
        compare("", before, after, changes);
        // --incoming overrides the file's key: the file saying otherwise is no change.
        changes.removeIf(c -> c.key().equals("configFile") || c.key().equals("migration.incoming"));
        return changes.stream().map(c -> cdMediumIsLive(c, before, after)).toList();
    }

    private static void compare(String path, Object before, Object after, List<Change> out) {
        if (Objects.equals(before, after)) {
            return;
        }
        if (before instanceof Record
                && after instanceof Record
                && before.getClass() == after.getClass()) {
            for (RecordComponent component : before.getClass().getRecordComponents()) {
                compare(
                        join(path, component.getName()),
                        value(component, before),
                        value(component, after),
                        out);
            }
        } else if (before instanceof List<?> b
                && after instanceof List<?> a
                && b.size() == a.size()) {
            for (int i = 0; i < b.size(); i++) {
                compare(path + "[" + i + "]", b.get(i), a.get(i), out);
            }
        } else {
            LiveKey live = LiveKey.of(path).filter(k -> k != LiveKey.CD_MEDIUM).orElse(null);
            out.add(new Change(path, show(path, before), show(path, after), live));
        }
    }

    /** A CD's medium is live when the drive stays a CD at the same position. */
    private static Change cdMediumIsLive(Change change, RunnerConfig before, RunnerConfig after) {
        String key = change.key();
        if (LiveKey.of(key).orElse(null) != LiveKey.CD_MEDIUM) {
            return change;
        }
        int index = LiveKey.drivePosition(key);
        boolean cd =
                before.vm().drives().get(index).isCd() && after.vm().drives().get(index).isCd();
        return new Change(key, change.before(), change.after(), cd ? LiveKey.CD_MEDIUM : null);
    }

    private static Object value(RecordComponent component, Object record) {
        try {
            return component.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Failed to read " + component.getName() + ": " + e, e);
        }
    }

    private static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    private static String show(String path, Object value) {
        if (value == null) {
            return "(none)";
        }
        if (SIZES.contains(path) && value instanceof Long bytes) {
            return Sizes.format(bytes);
        }
        if (value instanceof Map<?, ?> || value instanceof List<?>) {
            return "(changed)";
        }
        return String.valueOf(value);
    }
}
