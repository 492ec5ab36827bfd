package dev.pgshift.run;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.source.MigrationScript;
import java.util.List;

/**
 * Which part of the pending migrations a run applies. Only concurrent builds and backfills at the end of the pending list
 * may be deferred to {@code post}: deferring one past a later migration would change the order. Long concurrent
 * builds and backfills can so run after the release (a post-upgrade hook, or a Job outside the hooks).
 */
public enum Phase {
    PRE, POST, ALL;

    /**
     * The version this phase stops at: null for all pending, "" when the phase has nothing to run (pre, with only
     * deferred builds pending); post refuses while other migrations are pending before the deferred builds.
     */
    public String target(List<MigrationScript> pending) {
        int first = firstDeferrable(pending);
        return switch (this) {
            case ALL -> null;
            case PRE -> first == pending.size() ? null : first == 0 ? "" : pending.get(first - 1).version();
            case POST -> {
                if (first > 0) {
                    throw new PgshiftException(ExitCode.CONFIG, "--phase post runs only the concurrent builds and backfills at the end of the pending "
                            + "list, but " + first + " other migration(s) are pending first ("
                            + String.join(", ", pending.subList(0, first).stream().map(MigrationScript::version).toList())
                            + "): run --phase pre (or all) first");
                }
                yield null;
            }
        };
    }

    /** Index of the first deferrable migration in {@code pending}: the start of its trailing non-transactional run. */
    public static int firstDeferrable(List<MigrationScript> pending) {
        int i = pending.size();
        while (i > 0 && pending.get(i - 1).deferrable()) {
            i--;
        }
        return i;
    }
}
