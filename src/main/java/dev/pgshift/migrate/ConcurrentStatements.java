package dev.pgshift.migrate;

import dev.pgshift.source.SqlStatement;
import java.util.List;

/** Reads what a concurrent statement works on (index, table, partition) from the tokenizer's words. */
final class ConcurrentStatements {

    private ConcurrentStatements() {
    }

    static boolean isCreateIndexConcurrently(SqlStatement s) {
        return s.startsWith("CREATE", "INDEX", "CONCURRENTLY") || s.startsWith("CREATE", "UNIQUE", "INDEX", "CONCURRENTLY");
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

    /** The index a named CREATE INDEX CONCURRENTLY builds (unnamed ones are refused at plan time). */
    static String indexName(SqlStatement s) {
        int i = s.words().indexOf("CONCURRENTLY") + 1;
        return s.nameAt(s.containsSequence("CONCURRENTLY", "IF", "NOT", "EXISTS") ? i + 3 : i);
    }

    static String droppedIndex(SqlStatement s) {
        return s.nameAt(s.containsSequence("CONCURRENTLY", "IF", "EXISTS") ? 5 : 3);
    }

    /** [table, partition] of an ALTER TABLE ... DETACH PARTITION. */
    static String[] detachTarget(SqlStatement s) {
        List<String> w = s.words();
        int i = 2;
        while (i < w.size() && (w.get(i).equals("IF") || w.get(i).equals("EXISTS") || w.get(i).equals("ONLY"))) {
            i++;
        }
        return new String[] {s.nameAt(i), s.nameAt(w.indexOf("PARTITION") + 1)};
    }
}
