package dev.pgshift.migrate;

import dev.pgshift.source.SqlStatement;

/** Recognises the concurrent statements whose leftovers pgshift repairs, and the index or partition they work on. */
final class ConcurrentStatements {

    private ConcurrentStatements() {
    }

    static boolean isDropIndexConcurrently(SqlStatement s) {
        return s.startsWith("DROP", "INDEX", "CONCURRENTLY");
    }

    static boolean isReindexConcurrently(SqlStatement s) {
        return s.startsWith("REINDEX") && s.words().contains("CONCURRENTLY");
    }

    static boolean isDetach(SqlStatement s) {
        return s.startsWith("ALTER", "TABLE") && s.containsSequence("DETACH", "PARTITION");
    }

    static String droppedIndex(SqlStatement s) {
        return s.nameAt(s.containsSequence("CONCURRENTLY", "IF", "EXISTS") ? 5 : 3);
    }

    /** [table, partition] of an ALTER TABLE ... DETACH PARTITION. */
    static String[] detachTarget(SqlStatement s) {
        return new String[] {s.alteredTable(), s.nameAt(s.words().indexOf("PARTITION") + 1)};
    }
}
