package dev.pgshift.migrate;

import dev.pgshift.source.QualifiedName;
import dev.pgshift.source.SqlStatement;
import java.util.List;

/** What the concurrent statements whose leftovers pgshift repairs name (which they are is {@code SqlStatement}'s to say). */
final class ConcurrentStatements {

    private ConcurrentStatements() {
    }

    /** The index a DROP INDEX CONCURRENTLY [IF EXISTS] name statement drops. */
    static QualifiedName droppedIndex(SqlStatement s) {
        return s.qualifiedNameAt(s.containsSequence("CONCURRENTLY", "IF", "EXISTS") ? 5 : 3);
    }

    /** What an ALTER TABLE table DETACH PARTITION partition [CONCURRENTLY | FINALIZE] names. */
    record Detach(QualifiedName table, QualifiedName partition, boolean finalizes) {
    }

    static Detach detach(SqlStatement s) {
        List<String> w = s.words();
        return new Detach(s.alteredTable(), s.qualifiedNameAt(w.indexOf("PARTITION") + 1), w.get(w.size() - 1).equals("FINALIZE"));
    }

    /** What a REINDEX works on: INDEX, TABLE, SCHEMA, DATABASE or SYSTEM, and its name (null where none is given). */
    record Reindex(String kind, QualifiedName name) {
    }

    /** REINDEX [ ( options ) ] { INDEX | TABLE | SCHEMA | DATABASE | SYSTEM } [ CONCURRENTLY ] [ name ]. */
    static Reindex reindex(SqlStatement s) {
        List<String> w = s.words();
        int i = 1;
        if (i < w.size() && w.get(i).equals("(")) {
            int depth = 0;
            for (; i < w.size(); i++) {
                depth += w.get(i).equals("(") ? 1 : w.get(i).equals(")") ? -1 : 0;
                if (depth == 0) {
                    i++;
                    break;
                }
            }
        }
        if (i >= w.size()) {
            return new Reindex("", null);
        }
        String kind = w.get(i++);
        if (i < w.size() && w.get(i).equals("CONCURRENTLY")) {
            i++;
        }
        return new Reindex(kind, s.qualifiedNameAt(i));
    }
}
