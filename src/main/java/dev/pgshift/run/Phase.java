package dev.pgshift.run;

import java.util.List;
import dev.pgshift.source.MigrationScript;

/**
 * Which part of the pending migrations a run applies. Only non-transactional migrations at the end of the pending list
 * may be deferred to {@code post}: deferring one past a later migration would change the order. Long concurrent
 * builds can so run after the release (a post-upgrade hook, or a Job outside the hooks).
 */
public enum Phase {
    PRE, POST, ALL;

    /** Index of the first deferrable migration in {@code pending}: the start of its trailing non-transactional run. */
    public static int firstDeferrable(List<MigrationScript> pending) {
        int i = pending.size();
        while (i > 0 && !pending.get(i - 1).transactional()) {
            i--;
        }
        return i;
    }
}
