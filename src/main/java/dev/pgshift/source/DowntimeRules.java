package dev.pgshift.source;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds pending statements that lock an existing table for their whole duration and names the safer form, the way the
 * platform's "plan for downtime" practice asks a reviewer to. A table created by an earlier pending migration is new
 * and empty, so statements on it are not flagged.
 */
public final class DowntimeRules {
    private static final Set<String> VOLATILE_DEFAULTS = Set.of("RANDOM", "GEN_RANDOM_UUID", "UUID_GENERATE_V4", "UUID_GENERATE_V1",
            "CLOCK_TIMESTAMP", "TIMEOFDAY", "NEXTVAL", "STATEMENT_TIMESTAMP");

    private DowntimeRules() {
    }

    /**
     * @param pending pending migrations, in order
     * @param catalog the live database: which tables exist, which type changes rewrite
     */
    public static List<PlanWarning> check(List<MigrationScript> pending, TableCatalog catalog) {
        Set<String> created = new HashSet<>();
        List<PlanWarning> out = new ArrayList<>();
        for (MigrationScript m : pending) {
            int k = -1;
            for (SqlStatement s : m.statements()) {
                k++;
                List<String> w = s.words();
                for (String name : s.truncatedNames()) {
                    out.add(warn(m, s, "the name " + QualifiedName.display(name) + " is longer than " + QualifiedName.MAX_BYTES + " bytes: PostgreSQL cuts it to "
                            + QualifiedName.display(QualifiedName.truncate(name)) + " (with a NOTICE), and the catalog, pg_dump and every "
                            + "later migration see only that", "shorten the name in the migration to " + QualifiedName.MAX_BYTES
                            + " bytes or fewer, so that the file and the catalog agree"));
                }
                if (s.startsWith("CREATE", "TABLE") || s.startsWith("CREATE", "UNLOGGED", "TABLE")) {
                    String name = s.createdTable();
                    if (name != null) {
                        created.add(QualifiedName.truncate(name));
                    }
                    continue;
                }
                if (s.startsWith("DO")) {
                    out.add(warn(m, s, "statements inside a DO block are not checked by the plan",
                            "review the block by hand, or write its statements as plain SQL so the plan can check them"));
                    continue;
                }
                if (s.startsWith("ALTER", "TYPE") && s.containsSequence("ADD", "VALUE")) {
                    boolean oneTransaction = m.mode() == ExecutionMode.TRANSACTION || m.mode() == ExecutionMode.OWN && inBlock(m, k);
                    if (oneTransaction && usedLater(s, m.statements().after(k + 1))) {
                        out.add(warn(m, s, "a value added by ALTER TYPE ... ADD VALUE cannot be used until its transaction commits",
                                "put ALTER TYPE ... ADD VALUE in a migration of its own, before the migrations that use the value"));
                    }
                    continue;
                }
                if (m.mode() != ExecutionMode.BACKFILL && (s.startsWith("UPDATE") || s.startsWith("DELETE", "FROM"))) {
                    bigWrite(m, s, created, catalog, out);
                    continue;
                }
                String table = tableOf(s);
                if (table == null || created.contains(table) || !catalog.exists(table)) {
                    continue;
                }
                if (s.startsWith("CREATE", "INDEX") || s.startsWith("CREATE", "UNIQUE", "INDEX")) {
                    if (!w.contains("CONCURRENTLY")) {
                        out.add(warn(m, s, "blocks every write to " + table + " while the index builds",
                                "CREATE INDEX CONCURRENTLY, named, in a migration of its own (pgshift runs it outside a transaction)"));
                    }
                    continue;
                }
                if (s.startsWith("ALTER", "TABLE")) {
                    alterTable(m, s, table, catalog, out);
                }
            }
        }
        return out;
    }

    private static void alterTable(MigrationScript m, SqlStatement s, String table, TableCatalog catalog, List<PlanWarning> out) {
        List<String> w = s.words();
        boolean notValid = s.containsSequence("NOT", "VALID");
        if (w.contains("CHECK") && w.contains("ADD") && !notValid) {
            out.add(warn(m, s, "holds an ACCESS EXCLUSIVE lock on " + table + " while every row is checked",
                    "ADD CONSTRAINT ... CHECK (...) NOT VALID, then ALTER TABLE " + table + " VALIDATE CONSTRAINT ... in a later migration"));
        }
        if ((s.containsSequence("FOREIGN", "KEY") || w.contains("REFERENCES")) && w.contains("ADD") && !notValid) {
            out.add(warn(m, s, "locks " + table + " and the referenced table against writes while every row is checked",
                    "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a later migration"));
        }
        if (w.contains("ADD") && (s.containsSequence("PRIMARY", "KEY") || w.contains("UNIQUE")) && !s.containsSequence("USING", "INDEX")) {
            out.add(warn(m, s, "builds an index while it holds an ACCESS EXCLUSIVE lock on " + table,
                    "CREATE UNIQUE INDEX CONCURRENTLY in a migration of its own, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX "
                            + "(or UNIQUE USING INDEX)"));
        }
        if (s.containsSequence("SET", "NOT", "NULL")) {
            out.add(warn(m, s, "holds an ACCESS EXCLUSIVE lock on " + table + " while every row is scanned",
                    "ADD CONSTRAINT ... CHECK (column IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL "
                            + "(PostgreSQL 12+ then skips the scan) and drop the CHECK"));
        }
        for (TypeChange change : typeChanges(s)) {
            Boolean rewrites = change.using() ? Boolean.TRUE : catalog.rewrites(tableRef(s), change.column(), change.type());
            if (!Boolean.FALSE.equals(rewrites)) {
                out.add(warn(m, s, (rewrites == null ? "may rewrite " : "rewrites ") + table + " and its indexes under an ACCESS EXCLUSIVE lock"
                        + " (column " + change.column() + " to " + change.type() + ")",
                        "add a new column, backfill it in batches, switch the application, then drop the old column"));
            }
        }
        if (w.contains("ADD") && volatileDefault(w)) {
            out.add(warn(m, s, "rewrites " + table + " under an ACCESS EXCLUSIVE lock (a volatile default is computed per row)",
                    "ADD COLUMN without the default (or with a constant one), then backfill in batches and SET DEFAULT"));
        }
    }

    /** An UPDATE or DELETE on a table of more than this many rows, not restricted to a key range, gets a warning. */
    public static final long BIG_TABLE_ROWS = 100_000;

    /**
     * An UPDATE or DELETE over a big table in one statement: row locks on every row it touches until it commits (the
     * application's writes to them wait), WAL and bloat in one go, and all of it lost on a kill or a lock timeout. Not
     * flagged when its WHERE names a key column (a range or a few rows) or the table is new or small.
     */
    private static void bigWrite(MigrationScript m, SqlStatement s, Set<String> created, TableCatalog catalog, List<PlanWarning> out) {
        List<String> w = s.words();
        int at = s.startsWith("UPDATE") ? 1 : 2;
        at += at < w.size() && w.get(at).equals("ONLY") ? 1 : 0;
        QualifiedName name = s.qualifiedNameAt(at);
        if (name == null || created.contains(name.truncated().name())) {
            return;
        }
        int last = at;
        while (last + 2 < w.size() && w.get(last + 1).equals(".")) {
            last += 2;
        }
        String ref = s.source(at, last);
        long rows = catalog.rows(ref);
        if (rows <= BIG_TABLE_ROWS) {
            return;
        }
        int where = s.firstOutsideParentheses(0, i -> w.get(i).equals("WHERE")); // a subquery's WHERE is not the statement's
        if (where >= 0) {
            for (String key : catalog.keyColumns(ref)) {
                for (int i = where + 1; i < w.size(); i++) {
                    if (s.qualifiedNameAt(i) != null && QualifiedName.fold(s.source(i, i)).equals(key)) {
                        return;
                    }
                }
            }
        }
        out.add(warn(m, s, "changes " + (where < 0 ? "every row" : "the matching rows") + " of " + name + " (about " + rows + " rows) in one "
                + "transaction: row locks on each until it commits, so the application's writes to them wait, and a kill or a lock "
                + "timeout throws all of it away",
                "a backfill migration: the statement alone in a file whose first line is '" + Backfill.DIRECTIVE + "' (pgshift runs it "
                        + "in batches along the table's key, resumably)"));
    }

    /** Whether a later statement of the same transaction uses the value an ADD VALUE statement adds. */
    private static boolean usedLater(SqlStatement addValue, java.util.Iterator<SqlStatement> later) {
        List<String> w = addValue.words();
        String value = null;
        for (int i = w.indexOf("VALUE") + 1; i < w.size() && value == null; i++) {
            if (w.get(i).startsWith("'")) {
                value = w.get(i);
            }
        }
        if (value == null) {
            return false;
        }
        while (later.hasNext()) {
            SqlStatement next = later.next();
            if (next.kind() == SqlStatement.Kind.TRANSACTION_CONTROL && (next.startsWith("COMMIT") || next.startsWith("END")
                    || next.startsWith("ROLLBACK") && !next.words().contains("TO"))) {
                return false; // a file's own block ends: the value is committed (or gone) after it
            }
            if (next.words().contains(value)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the {@code k}-th statement (from 0) of a file with its own transactions stands inside one of its blocks. */
    private static boolean inBlock(MigrationScript m, int k) {
        boolean in = false;
        int i = 0;
        for (SqlStatement s : m.statements()) {
            if (i++ == k) {
                return in;
            }
            if (s.kind() == SqlStatement.Kind.TRANSACTION_CONTROL) {
                String w = s.words().get(0);
                in = w.equals("BEGIN") || w.equals("START") || in && !(w.equals("COMMIT") || w.equals("END")
                        || w.equals("ROLLBACK") && !s.words().contains("TO"));
            }
        }
        return in;
    }

    private static PlanWarning warn(MigrationScript m, SqlStatement s, String risk, String safer) {
        return new PlanWarning(m.version(), m.file().displayPath(), s.line(), s.excerpt(100), risk, safer);
    }

    /** One {@code ALTER [COLUMN] c [SET DATA] TYPE t [COLLATE ..] [USING ..]} of an ALTER TABLE. */
    record TypeChange(String column, String type, boolean using) {
    }

    static List<TypeChange> typeChanges(SqlStatement s) {
        List<String> w = s.words();
        List<TypeChange> out = new ArrayList<>();
        for (int i = 1; i + 2 < w.size(); i++) {
            if (!w.get(i).equals("ALTER") || w.get(i - 1).equals("ALTER")) {
                continue;
            }
            int col = w.get(i + 1).equals("COLUMN") ? i + 2 : i + 1;
            int type;
            if (col + 1 < w.size() && w.get(col + 1).equals("TYPE")) {
                type = col + 2;
            } else if (col + 3 < w.size() && w.get(col + 1).equals("SET") && w.get(col + 2).equals("DATA") && w.get(col + 3).equals("TYPE")) {
                type = col + 4;
            } else {
                continue;
            }
            int end = type;
            int depth = 0;
            while (end < w.size()) {
                String x = w.get(end);
                if (x.equals("(")) {
                    depth++;
                } else if (x.equals(")")) {
                    depth--;
                } else if (depth == 0 && (x.equals(",") || x.equals("USING") || x.equals("COLLATE"))) {
                    break;
                }
                end++;
            }
            if (end > type) {
                out.add(new TypeChange(s.nameAt(col), s.source(type, end - 1), end < w.size() && w.get(end).equals("USING")));
            }
        }
        return out;
    }

    /** The table of an ALTER TABLE as the statement writes it, for the catalog to resolve. */
    private static String tableRef(SqlStatement s) {
        List<String> w = s.words();
        int i = 2;
        while (i < w.size() && (w.get(i).equals("IF") || w.get(i).equals("EXISTS") || w.get(i).equals("ONLY"))) {
            i++;
        }
        int last = i;
        while (last + 2 < w.size() && w.get(last + 1).equals(".")) {
            last += 2;
        }
        return s.source(i, last);
    }

    private static boolean volatileDefault(List<String> w) {
        for (int i = 0; i < w.size(); i++) {
            String x = w.get(i);
            if (x.equals("SERIAL") || x.equals("BIGSERIAL") || x.equals("SMALLSERIAL")) {
                return true;
            }
            if (x.equals("STORED") && w.contains("GENERATED")) {
                return true;
            }
            if (x.equals("DEFAULT")) {
                for (int j = i + 1; j < Math.min(w.size(), i + 6); j++) {
                    if (VOLATILE_DEFAULTS.contains(w.get(j))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * The table an ALTER TABLE or CREATE INDEX statement works on (its last part: the plan's table catalog looks tables
     * up by name on the search_path; weighing them by their live size is the lint's own work), or null.
     */
    static String tableOf(SqlStatement s) {
        QualifiedName t = s.startsWith("ALTER", "TABLE") ? s.alteredTable() : s.indexedTable();
        return t == null ? null : t.truncated().name();
    }
}
