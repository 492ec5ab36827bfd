package dev.pgshift.source;

import dev.pgshift.source.Effect.Lock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What PostgreSQL does to an existing table for one statement (its {@link Effect}), and which lint rules that touches,
 * each with the safe form as SQL. The lock modes, rewrites and scans are those PostgreSQL 14 to 18 document and that
 * LintProofIT observes on each major; volatility, rewrites on a type change and validated CHECKs come from the live
 * catalog.
 */
final class Classifier {

    /** A rule a statement touches, about {@code table}, before it is weighed. */
    record Hit(LintRule rule, String risk, String safer) {
    }

    /** @param referenced a table the statement also locks (a foreign key's referenced table, SHARE ROW EXCLUSIVE), or null */
    record Classified(Effect effect, List<Hit> hits, QualifiedName referenced) {
    }

    /** What earlier pending statements did that later ones depend on: NOT NULL CHECKs added and validated. */
    static final class Pending {
        private final Map<String, String> checks = new HashMap<>();
        private final Set<String> validated = new HashSet<>();
    }

    private final SqlStatement s;
    private final List<String> w;
    private final TableCatalog cat;
    private final Pending pending;
    private final List<Hit> hits = new ArrayList<>();
    private final java.util.function.UnaryOperator<QualifiedName> names;
    private QualifiedName table;
    private QualifiedName referenced;
    private String prefix;

    private Classifier(SqlStatement s, TableCatalog cat, Pending pending, java.util.function.UnaryOperator<QualifiedName> names) {
        this.s = s;
        this.w = s.words();
        this.cat = cat;
        this.pending = pending;
        this.names = names;
    }

    /**
     * @param backfill whether the statement is a backfill migration's (run in batches: no big-write hit)
     * @param names    where a name as written leads (search_path, earlier pending renames); schema-qualified where known
     */
    static Classified classify(SqlStatement s, TableCatalog cat, Pending pending, boolean backfill, java.util.function.UnaryOperator<QualifiedName> names) {
        Classifier c = new Classifier(s, cat, pending, names);
        Effect e = c.effect(backfill);
        return new Classified(e, List.copyOf(c.hits), c.referenced);
    }

    /** The table a name as written leads to. */
    QualifiedName resolve(QualifiedName written) {
        return written == null ? null : names.apply(written);
    }

    void referenced(QualifiedName t) {
        referenced = resolve(t);
    }

    private Effect effect(boolean backfill) {
        if (s.startsWith("ALTER", "TABLE")) {
            table = resolve(s.alteredTable());
            return table == null ? null : alterTable();
        }
        if (s.startsWith("CREATE", "INDEX") || s.startsWith("CREATE", "UNIQUE", "INDEX")) {
            table = resolve(s.indexedTable());
            boolean concurrently = s.isCreateIndexConcurrently();
            if (table != null && !concurrently) {
                int at = w.indexOf("INDEX");
                hit(LintRule.CREATE_INDEX, "blocks every write to " + table + " while the index builds",
                        s.text().substring(0, s.wordEnd()[at]) + " CONCURRENTLY" + s.text().substring(s.wordEnd()[at]) + "; -- in a migration "
                                + "of its own, the index named (pgshift runs it outside a transaction and repairs it if it fails halfway)");
            }
            return table == null ? null : concurrently ? effect(Lock.SHARE_UPDATE_EXCLUSIVE, false, true, true) : effect(Lock.SHARE, false, true, false);
        }
        if (s.startsWith("DROP", "INDEX")) {
            int i = 2 + (s.isDropIndexConcurrently() ? 1 : 0);
            i += i + 1 < w.size() && w.get(i).equals("IF") && w.get(i + 1).equals("EXISTS") ? 2 : 0;
            table = indexTable(i);
            return table == null ? null : s.isDropIndexConcurrently() ? effect(Lock.SHARE_UPDATE_EXCLUSIVE, false, false, true)
                    : effect(Lock.ACCESS_EXCLUSIVE, false, false, false);
        }
        if (s.startsWith("REINDEX")) {
            return reindex();
        }
        if (s.startsWith("UPDATE") || s.startsWith("DELETE", "FROM")) {
            int at = s.startsWith("UPDATE") ? 1 : 2;
            at += at < w.size() && w.get(at).equals("ONLY") ? 1 : 0;
            table = resolve(s.qualifiedNameAt(at));
            int where = s.firstOutsideParentheses(0, i -> w.get(i).equals("WHERE")); // a subquery's WHERE is not the statement's
            if (table != null && !backfill && !keyInWhere(where)) {
                hit(LintRule.BIG_WRITE, "changes " + (where < 0 ? "every row" : "the matching rows") + " of " + table + " in one transaction: row "
                        + "locks on each until it commits, so the application's writes to them wait, and a kill or a lock timeout throws all of "
                        + "it away", "a backfill migration: the statement alone in a file whose first line is '" + Backfill.DIRECTIVE + "' (pgshift "
                        + "runs it in batches along the table's key, resumably)");
            }
            return table == null ? null : effect(Lock.ROW_EXCLUSIVE, false, where < 0, false);
        }
        if (s.startsWith("INSERT", "INTO")) {
            table = resolve(s.qualifiedNameAt(2));
            return table == null ? null : effect(Lock.ROW_EXCLUSIVE, false, false, false);
        }
        if (s.startsWith("TRUNCATE")) {
            int at = 1 + (w.size() > 1 && w.get(1).equals("TABLE") ? 1 : 0);
            at += at < w.size() && w.get(at).equals("ONLY") ? 1 : 0;
            table = resolve(s.qualifiedNameAt(at));
            return table == null ? null : effect(Lock.ACCESS_EXCLUSIVE, true, false, false);
        }
        if (s.startsWith("CLUSTER") || s.startsWith("VACUUM")) {
            return rebuild();
        }
        return null;
    }

    private Effect effect(Lock lock, boolean rewrite, boolean scan, boolean waits) {
        return new Effect(table, lock, rewrite, scan || rewrite, waits);
    }

    private void hit(LintRule rule, String risk, String safer) {
        hits.add(new Hit(rule, risk, safer));
    }

    private QualifiedName indexTable(int at) {
        QualifiedName index = s.qualifiedNameAt(at);
        return index == null ? null : resolve(cat.tableOfIndex(index));
    }

    private Effect reindex() {
        int i = 1;
        if (i < w.size() && w.get(i).equals("(")) {
            while (i < w.size() && !w.get(i).equals(")")) {
                i++;
            }
            i++;
        }
        if (i >= w.size() || !(w.get(i).equals("INDEX") || w.get(i).equals("TABLE"))) {
            return null; // SCHEMA, DATABASE, SYSTEM: more than one table
        }
        boolean index = w.get(i).equals("INDEX");
        int name = i + 1 + (i + 1 < w.size() && w.get(i + 1).equals("CONCURRENTLY") ? 1 : 0);
        table = index ? indexTable(name) : resolve(s.qualifiedNameAt(name));
        if (table == null) {
            return null;
        }
        if (s.isReindexConcurrently()) {
            return effect(Lock.SHARE_UPDATE_EXCLUSIVE, false, true, true);
        }
        hit(LintRule.REINDEX, "blocks every write to " + table + " while " + (index ? "the index is" : "its indexes are") + " rebuilt",
                "REINDEX " + w.get(i) + " CONCURRENTLY " + s.source(name, nameEnd(name)) + "; -- in a migration of its own (pgshift runs it "
                        + "outside a transaction)");
        return effect(Lock.SHARE, false, true, false);
    }

    /**
     * {@code CLUSTER [VERBOSE] table [USING index]} and {@code VACUUM FULL table} ({@code VACUUM (FULL ...) table}): the
     * table written anew under an ACCESS EXCLUSIVE lock. A plain VACUUM takes a SHARE UPDATE EXCLUSIVE lock.
     */
    private Effect rebuild() {
        int i = 1;
        boolean full = s.startsWith("CLUSTER");
        if (i < w.size() && w.get(i).equals("(")) {
            for (i++; i < w.size() && !w.get(i).equals(")"); i++) {
                full |= w.get(i).equals("FULL") && !(i + 1 < w.size() && (w.get(i + 1).equals("FALSE") || w.get(i + 1).equals("OFF")));
            }
            i++;
        }
        while (i < w.size() && (w.get(i).equals("FULL") || w.get(i).equals("VERBOSE") || w.get(i).equals("FREEZE") || w.get(i).equals("ANALYZE"))) {
            full |= w.get(i).equals("FULL");
            i++;
        }
        table = resolve(s.qualifiedNameAt(i));
        if (table == null) {
            return null;
        }
        if (!full) {
            return effect(Lock.SHARE_UPDATE_EXCLUSIVE, false, true, false);
        }
        hit(LintRule.REWRITE_TABLE, "writes " + table + " and its indexes anew under an ACCESS EXCLUSIVE lock: reads and writes wait until it "
                + "is done", "run it in a maintenance window (and allow it on the statement: -- pgshift:allow rewrite-table reason=\"...\"); "
                + "to shrink a bloated table while the application runs, the pg_repack extension rebuilds it with a short lock at the end");
        return effect(Lock.ACCESS_EXCLUSIVE, true, true, false);
    }

    /** Whether the statement's own WHERE names a column of the table's key (a range or a few rows, not the whole table). */
    private boolean keyInWhere(int where) {
        if (where < 0) {
            return false;
        }
        for (String key : cat.keyColumns(table)) {
            for (int i = where + 1; i < w.size(); i++) {
                if (s.qualifiedNameAt(i) != null && QualifiedName.fold(s.source(i, i)).equals(key)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The last word of the (maybe qualified) name that starts at {@code i}. */
    private int nameEnd(int i) {
        while (i + 2 < w.size() && w.get(i + 1).equals(".")) {
            i += 2;
        }
        return i;
    }

    private Effect alterTable() {
        int i = 2;
        while (i < w.size() && (w.get(i).equals("IF") || w.get(i).equals("EXISTS") || w.get(i).equals("ONLY"))) {
            i++;
        }
        prefix = s.source(0, nameEnd(i));
        int from = nameEnd(i) + 1;
        from += from < w.size() && w.get(from).equals("*") ? 1 : 0;
        Effect out = null;
        int depth = 0;
        int start = from;
        for (int k = from; k <= w.size(); k++) {
            String x = k < w.size() ? w.get(k) : ",";
            depth += x.equals("(") ? 1 : x.equals(")") ? -1 : 0;
            if (depth == 0 && x.equals(",") && k > start) {
                Effect e = new AlterTableAction(this, start, k).effect();
                out = out == null ? e : out.and(e);
                start = k + 1;
            }
        }
        return out == null ? effect(Lock.ACCESS_EXCLUSIVE, false, false, false) : out;
    }

    SqlStatement statement() {
        return s;
    }

    QualifiedName table() {
        return table;
    }

    /** {@code ALTER TABLE [IF EXISTS] [ONLY] name} as the statement writes it, for safe forms that keep its words. */
    String alterPrefix() {
        return prefix;
    }

    TableCatalog catalog() {
        return cat;
    }

    /** Records a CHECK ({@code column IS NOT NULL}) that an earlier pending statement adds, validated or not. */
    void notNullCheck(String constraint, String column, boolean validated) {
        if (constraint != null) {
            pending.checks.put(table.truncated() + "/" + constraint, column);
        }
        if (validated) {
            pending.validated.add(table.truncated() + "/" + column);
        }
    }

    /** A VALIDATE CONSTRAINT: if it is a NOT NULL CHECK added earlier, its column is now known not null. */
    void validated(String constraint) {
        String column = pending.checks.get(table.truncated() + "/" + constraint);
        if (column != null) {
            pending.validated.add(table.truncated() + "/" + column);
        }
    }

    boolean knownNotNull(String column) {
        return pending.validated.contains(table.truncated() + "/" + column) || cat.notNullChecked(table, column);
    }

    Effect effectOf(Lock lock, boolean rewrite, boolean scan, boolean waits) {
        return effect(lock, rewrite, scan, waits);
    }

    void add(LintRule rule, String risk, String safer) {
        hit(rule, risk, safer);
    }
}
