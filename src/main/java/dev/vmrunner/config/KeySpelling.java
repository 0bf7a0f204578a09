package dev.vmrunner.config;

import java.util.Locale;
import java.util.Set;

/** Suggestions for a misspelt key: the known key closest to it, by edit distance. */
final class KeySpelling {
    private KeySpelling() {}

    /** The key of {@code used} (those asked for) that {@code key} is probably a misspelling of. */
    static String similar(String key, Set<String> used) {
        String best = null;
        int bestDistance = 3; // at most two edits
        for (String known : used) {
            if (known.startsWith("/")) {
                continue;
            }
            int distance = distance(key.toLowerCase(Locale.ROOT), known.toLowerCase(Locale.ROOT));
            if (distance < bestDistance) {
                best = known;
                bestDistance = distance;
            }
        }
        return best;
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
