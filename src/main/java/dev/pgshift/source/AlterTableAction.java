package dev.pgshift.source;

import dev.pgshift.source.Effect.Lock;
import java.util.List;
import java.util.Set;

/** One action of an ALTER TABLE (the words from {@code from} up to, not including, {@code to}): its effect and rule hits. */
final class AlterTableAction {
    /** Defaults computed per row when no catalog says otherwise (the catalog's pg_proc decides where it knows the name). */
    private static final Set<String> VOLATILE_DEFAULTS = Set.of("RANDOM", "GEN_RANDOM_UUID", "UUID_GENERATE_V4", "UUID_GENERATE_V1",
            "CLOCK_TIMESTAMP", "TIMEOFDAY", "NEXTVAL", "STATEMENT_TIMESTAMP");

    private final Classifier c;
    private final SqlStatement s;
    private final List<String> w;
    private final int from;
    private final int to;
    private final QualifiedName table;

    AlterTableAction(Classifier c, int from, int to) {
        this.c = c;
        this.s = c.statement();
        this.w = s.words();
        this.from = from;
        this.to = to;
        this.table = c.table();
    }

    private String at(int i) {
        return i < to ? w.get(i) : "";
    }

    private boolean has(String... seq) {
        outer:
        for (int i = from; i + seq.length <= to; i++) {
            for (int j = 0; j < seq.length; j++) {
                if (!w.get(i + j).equals(seq[j])) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private String source() {
        return s.source(from, to - 1);
    }

    private String alter() {
        return c.alterPrefix() + " ";
    }

    Effect effect() {
        return switch (at(from)) {
            case "ADD" -> add();
            case "ALTER" -> alterColumn();
            case "VALIDATE" -> {
                c.validated(s.nameAt(from + 2));
                yield c.effectOf(Lock.SHARE_UPDATE_EXCLUSIVE, false, true, false);
            }
            case "SET" -> at(from + 1).equals("(") || has("WITHOUT", "CLUSTER") ? c.effectOf(Lock.SHARE_UPDATE_EXCLUSIVE, false, false, false)
                    : set();
            case "RESET", "CLUSTER", "ATTACH" -> c.effectOf(Lock.SHARE_UPDATE_EXCLUSIVE, false, false, false);
            case "ENABLE", "DISABLE" -> c.effectOf(at(from + 1).equals("TRIGGER") ? Lock.SHARE_ROW_EXCLUSIVE : Lock.ACCESS_EXCLUSIVE, false, false, false);
            case "DETACH" -> detach();
            default -> c.effectOf(Lock.ACCESS_EXCLUSIVE, false, false, false);
        };
    }

    /** SET LOGGED, UNLOGGED, TABLESPACE, ACCESS METHOD write the table anew; SET SCHEMA, WITHOUT OIDS ... do not. */
    private Effect set() {
        String what = at(from + 1);
        boolean rewrite = what.equals("LOGGED") || what.equals("UNLOGGED") || what.equals("TABLESPACE") || has("ACCESS", "METHOD");
        if (rewrite) {
            c.add(LintRule.REWRITE_TABLE, "writes " + table + " and its indexes anew under an ACCESS EXCLUSIVE lock (" + source() + "): reads and "
                    + "writes wait until it is done", "run it in a maintenance window (and allow it on the statement: -- pgshift:allow rewrite-table "
                    + "reason=\"...\"), or make the new table beside the old one and move the rows with a backfill migration");
        }
        return c.effectOf(Lock.ACCESS_EXCLUSIVE, rewrite, false, false);
    }

    private Effect detach() {
        if (has("CONCURRENTLY") || has("FINALIZE")) {
            return c.effectOf(Lock.SHARE_UPDATE_EXCLUSIVE, false, false, has("CONCURRENTLY"));
        }
        c.add(LintRule.DETACH_PARTITION, "takes an ACCESS EXCLUSIVE lock on " + table + ": every query on any of its partitions waits, and "
                + "queues behind any transaction that uses it", alter() + source() + " CONCURRENTLY; -- in a migration of its own (it cannot run "
                + "in a transaction block; pgshift runs it outside one; it takes a SHARE UPDATE EXCLUSIVE lock)");
        return c.effectOf(Lock.ACCESS_EXCLUSIVE, false, false, false);
    }

    private Effect add() {
        int k = from + 1;
        String constraint = null;
        if (at(k).equals("CONSTRAINT")) {
            constraint = s.nameAt(k + 1);
            k += 2;
        }
        boolean notValid = has("NOT", "VALID");
        String withNotValid = alter() + source() + " NOT VALID;";
        String validate = alter() + "VALIDATE CONSTRAINT " + (constraint == null ? "<name>" : QualifiedName.display(constraint)) + ";";
        switch (at(k)) {
            case "CHECK" -> {
                String column = notNullColumn(k + 1);
                if (column != null) {
                    c.notNullCheck(constraint, column, !notValid);
                }
                if (!notValid) {
                    c.add(LintRule.ADD_CHECK, "holds an ACCESS EXCLUSIVE lock on " + table + " while every row is checked: reads and writes wait",
                            withNotValid + " -- then, in a later migration: " + validate + " (VALIDATE reads the rows under a SHARE UPDATE "
                                    + "EXCLUSIVE lock: reads and writes go on)" + (constraint == null ? "; name the constraint so VALIDATE can name it" : ""));
                }
                return c.effectOf(Lock.ACCESS_EXCLUSIVE, false, !notValid, false);
            }
            case "FOREIGN" -> {
                for (int r = k; r < to; r++) {
                    if (w.get(r).equals("REFERENCES")) {
                        c.referenced(s.qualifiedNameAt(r + 1));
                    }
                }
                if (!notValid) {
                    c.add(LintRule.ADD_FOREIGN_KEY, "holds a SHARE ROW EXCLUSIVE lock on " + table + " and the referenced table while every row "
                            + "is checked: writes to both wait", withNotValid + " -- then, in a later migration: " + validate);
                }
                return c.effectOf(Lock.SHARE_ROW_EXCLUSIVE, false, !notValid, false);
            }
            case "PRIMARY", "UNIQUE" -> {
                if (has("USING", "INDEX") && !has("USING", "INDEX", "TABLESPACE")) {
                    return c.effectOf(Lock.ACCESS_EXCLUSIVE, false, false, false);
                }
                uniqueIndex(k, constraint);
                return c.effectOf(Lock.ACCESS_EXCLUSIVE, false, true, false);
            }
            case "EXCLUDE" -> {
                c.add(LintRule.ADD_UNIQUE, "builds the exclusion constraint's index while it holds an ACCESS EXCLUSIVE lock on " + table
                        + ": reads and writes wait", "an exclusion constraint has no concurrent form (no USING INDEX): run it in a maintenance "
                        + "window and allow it on the statement (-- pgshift:allow add-unique reason=\"...\")");
                return c.effectOf(Lock.ACCESS_EXCLUSIVE, false, true, false);
            }
            case "NOT" -> { // 18: ADD [CONSTRAINT name] NOT NULL column [NOT VALID]
                String column = s.nameAt(k + 2);
                boolean scan = !notValid && column != null && !c.knownNotNull(column);
                if (scan) {
                    setNotNull(column, constraint);
                }
                return c.effectOf(Lock.ACCESS_EXCLUSIVE, false, scan, false);
            }
            default -> {
                return addColumn();
            }
        }
    }

    /**
     * The safe form of {@code ADD [CONSTRAINT name] {PRIMARY KEY | UNIQUE [NULLS [NOT] DISTINCT]} (cols) [INCLUDE (...)]
     * [WITH (...)] [USING INDEX TABLESPACE t] [DEFERRABLE ...]} whose kind word is at {@code k}: the same index built
     * concurrently, then the constraint over it, every clause kept where it belongs.
     */
    private void uniqueIndex(int k, String constraint) {
        boolean primary = at(k).equals("PRIMARY");
        int i = k + (primary ? 2 : 1);
        String nulls = "";
        if (at(i).equals("NULLS")) {
            int end = at(i + 1).equals("NOT") ? i + 2 : i + 1;
            nulls = " " + s.source(i, end);
            i = end + 1;
        }
        int close = closing(i);
        String columns = at(i).equals("(") && close < to ? s.source(i, close) : "(...)";
        StringBuilder index = new StringBuilder(columns).append(nulls);
        StringBuilder tail = new StringBuilder();
        for (int j = close + 1; j < to; j++) {
            if (at(j).equals("INCLUDE") || at(j).equals("WITH") && at(j + 1).equals("(")) {
                int end = closing(j + 1);
                index.append(' ').append(s.source(j, Math.min(end, to - 1)));
                j = end;
            } else if (at(j).equals("USING") && at(j + 1).equals("INDEX") && at(j + 2).equals("TABLESPACE")) {
                index.append(" TABLESPACE ").append(s.source(j + 3, j + 3));
                j += 3;
            } else {
                tail.append(' ').append(s.source(j, j));
            }
        }
        String name = constraint == null ? "<name>" : QualifiedName.display(constraint);
        String kind = primary ? "PRIMARY KEY" : "UNIQUE";
        c.add(LintRule.ADD_UNIQUE, "builds a unique index while it holds an ACCESS EXCLUSIVE lock on " + table + ": reads and writes wait",
                "CREATE UNIQUE INDEX CONCURRENTLY " + name + " ON " + table + " " + index + "; -- in a migration of its own, then: " + alter()
                        + "ADD CONSTRAINT " + name + " " + kind + " USING INDEX " + name + tail + ";" + (primary ? " (a PRIMARY KEY also makes its "
                        + "columns NOT NULL: a nullable one is scanned under the lock, so make it NOT NULL first the set-not-null way)" : ""));
    }

    /** The word that closes the parenthesis opening at {@code open} (or {@code to} when there is none). */
    private int closing(int open) {
        int depth = 0;
        for (int j = open; j < to; j++) {
            depth += at(j).equals("(") ? 1 : at(j).equals(")") ? -1 : 0;
            if (depth == 0) {
                return j;
            }
        }
        return to;
    }

    /** The column of {@code CHECK (column IS NOT NULL)} whose words start at {@code open}, or null for another CHECK. */
    private String notNullColumn(int open) {
        if (at(open).equals("(") && open + 5 < to && at(open + 2).equals("IS") && at(open + 3).equals("NOT") && at(open + 4).equals("NULL")
                && at(open + 5).equals(")")) {
            return s.nameAt(open + 1);
        }
        if (at(open).equals("(") && at(open + 1).equals("(")) {
            return notNullColumn(open + 1);
        }
        return null;
    }

    private Effect addColumn() {
        int k = from + 1 + (at(from + 1).equals("COLUMN") ? 1 : 0);
        k += has("IF", "NOT", "EXISTS") ? 3 : 0;
        String column = s.nameAt(k);
        String col = column == null ? "<column>" : QualifiedName.display(column);
        int typeEnd = k + 1;
        while (typeEnd < to && !isConstraintWord(at(typeEnd)) && !at(typeEnd).equals("DEFAULT")) {
            typeEnd++;
        }
        String type = typeEnd > k + 1 ? s.source(k + 1, typeEnd - 1) : "<type>";
        boolean serial = type.toUpperCase(java.util.Locale.ROOT).matches("(BIG|SMALL)?SERIAL[248]?");
        String reason = perRow();
        if (reason == null && typeEnd > k + 1 && c.catalog().constrainedDomain(type)) {
            c.add(LintRule.ADD_COLUMN_REWRITE, "rewrites " + table + " and its indexes under an ACCESS EXCLUSIVE lock (its type " + type + " is a "
                    + "domain with constraints, checked on every row, with or without a default)", alter() + "ADD COLUMN " + col + " <the domain's "
                    + "base type>; -- no rewrite; then " + alter() + "ADD CONSTRAINT <name> CHECK (<the domain's check on " + col + ">) NOT VALID; "
                    + "and, in a later migration, VALIDATE CONSTRAINT <name>");
            return c.effectOf(Lock.ACCESS_EXCLUSIVE, true, true, false);
        }
        if (reason != null) {
            c.add(LintRule.ADD_COLUMN_REWRITE, "rewrites " + table + " and its indexes under an ACCESS EXCLUSIVE lock (" + reason + ")",
                    alter() + "ADD COLUMN " + col + " " + (serial ? "<integer type>" : type) + "; -- no default: no rewrite; then a backfill "
                            + "migration ('" + Backfill.DIRECTIVE + "' on its first line) fills it: UPDATE " + table + " SET " + col + " = <value>; "
                            + "and, after it, ALTER COLUMN " + col + " SET DEFAULT ..." + (has("NOT", "NULL") ? "; then make it NOT NULL the "
                            + "set-not-null way (a CHECK ... NOT VALID, VALIDATE, SET NOT NULL)" : ""));
        }
        boolean index = has("PRIMARY", "KEY") || has("UNIQUE");
        if (index) {
            c.add(LintRule.ADD_UNIQUE, "builds a unique index on the new column while it holds an ACCESS EXCLUSIVE lock on " + table
                    + ": reads and writes wait", alter() + "ADD COLUMN " + col + " " + type + "; then, in a migration of its own: CREATE UNIQUE "
                    + "INDEX CONCURRENTLY <name> ON " + table + " (" + col + "); then " + alter() + "ADD CONSTRAINT <name> "
                    + (has("PRIMARY", "KEY") ? "PRIMARY KEY" : "UNIQUE") + " USING INDEX <name>;");
        }
        return c.effectOf(Lock.ACCESS_EXCLUSIVE, reason != null, index || reason != null, false);
    }

    /** Why a new column's value is computed for every row (a rewrite), or null when it is not. */
    private String perRow() {
        for (int i = from; i < to; i++) {
            String x = w.get(i);
            if (x.equals("SERIAL") || x.equals("BIGSERIAL") || x.equals("SMALLSERIAL") || x.equals("SERIAL4") || x.equals("SERIAL8")
                    || x.equals("SERIAL2")) {
                return "a serial column takes nextval() for each row";
            }
            if (x.equals("IDENTITY") && at(i - 1).equals("AS")) {
                return "an identity column takes a sequence value for each row";
            }
            if (x.equals("STORED") && has("GENERATED")) {
                return "a stored generated column is computed for each row";
            }
            if (x.equals("DEFAULT")) {
                int depth = 0;
                for (int j = i + 1; j < to; j++) {
                    String y = w.get(j);
                    depth += y.equals("(") ? 1 : y.equals(")") ? -1 : 0;
                    if (depth == 0 && j > i + 1 && !y.equals(")") && isConstraintWord(y)) {
                        break;
                    }
                    if (at(j + 1).equals("(") && s.qualifiedNameAt(j) != null) {
                        String fn = QualifiedName.fold(s.source(j, j));
                        Boolean v = c.catalog().isVolatile(fn);
                        if (Boolean.TRUE.equals(v) || v == null && VOLATILE_DEFAULTS.contains(y)) {
                            return "a volatile default, " + fn + "(), is computed for each row";
                        }
                    }
                }
            }
        }
        return null;
    }

    private static boolean isConstraintWord(String y) {
        return switch (y) {
            case "NOT", "NULL", "CHECK", "REFERENCES", "UNIQUE", "PRIMARY", "CONSTRAINT", "COLLATE", "GENERATED" -> true;
            default -> false;
        };
    }

    private Effect alterColumn() {
        int k = from + 1 + (at(from + 1).equals("COLUMN") ? 1 : 0);
        String column = s.nameAt(k);
        if (column == null) {
            return c.effectOf(Lock.ACCESS_EXCLUSIVE, false, false, false);
        }
        int type = at(k + 1).equals("TYPE") ? k + 2 : at(k + 1).equals("SET") && at(k + 2).equals("DATA") && at(k + 3).equals("TYPE") ? k + 4 : -1;
        if (type > 0) {
            return changeType(column, type);
        }
        if (at(k + 1).equals("SET") && at(k + 2).equals("NOT") && at(k + 3).equals("NULL")) {
            boolean scan = !c.knownNotNull(column);
            if (scan) {
                setNotNull(column, null);
            }
            return c.effectOf(Lock.ACCESS_EXCLUSIVE, false, scan, false);
        }
        if (at(k + 1).equals("SET") && (at(k + 2).equals("STATISTICS") || at(k + 2).equals("("))
                || at(k + 1).equals("RESET")) {
            return c.effectOf(Lock.SHARE_UPDATE_EXCLUSIVE, false, false, false);
        }
        return c.effectOf(Lock.ACCESS_EXCLUSIVE, false, false, false);
    }

    private void setNotNull(String column, String constraint) {
        String col = QualifiedName.display(column);
        String name = constraint != null ? QualifiedName.display(constraint)
                : QualifiedName.display(QualifiedName.truncate(table.truncated().name() + "_" + column + "_not_null"));
        int major = c.catalog().major();
        String eighteen = alter() + "ADD CONSTRAINT " + name + " NOT NULL " + col + " NOT VALID; -- then, in a later migration: " + alter()
                + "VALIDATE CONSTRAINT " + name + "; (PostgreSQL 18: the column is NOT NULL once validated)";
        String twelve = alter() + "ADD CONSTRAINT " + name + " CHECK (" + col + " IS NOT NULL) NOT VALID; -- then, in a later migration: "
                + alter() + "VALIDATE CONSTRAINT " + name + "; then " + alter() + "ALTER COLUMN " + col + " SET NOT NULL; (no scan: PostgreSQL "
                + "uses the validated CHECK) and " + alter() + "DROP CONSTRAINT " + name + ";";
        c.add(LintRule.SET_NOT_NULL, "holds an ACCESS EXCLUSIVE lock on " + table + " while every row is scanned for NULLs: reads and writes wait",
                major >= 18 ? eighteen : major > 0 ? twelve : twelve + " (on PostgreSQL 18: " + eighteen + ")");
    }

    private Effect changeType(String column, int type) {
        int end = type;
        int depth = 0;
        while (end < to) {
            String x = w.get(end);
            depth += x.equals("(") ? 1 : x.equals(")") ? -1 : 0;
            if (depth == 0 && (x.equals("USING") || x.equals("COLLATE"))) {
                break;
            }
            end++;
        }
        if (end == type) {
            return c.effectOf(Lock.ACCESS_EXCLUSIVE, false, false, false);
        }
        String newType = s.source(type, end - 1);
        Boolean rewrites = at(end).equals("USING") ? Boolean.TRUE : c.catalog().rewrites(table, column, newType);
        if (!Boolean.FALSE.equals(rewrites)) {
            String col = QualifiedName.display(column);
            String fresh = QualifiedName.display(QualifiedName.truncate(column + "_new"));
            c.add(LintRule.CHANGE_TYPE, (rewrites == null ? "may rewrite " : "rewrites ") + table + " and its indexes under an ACCESS EXCLUSIVE "
                    + "lock (column " + col + " to " + newType + "): reads and writes wait", alter() + "ADD COLUMN " + fresh + " " + newType
                    + "; -- then a backfill migration ('" + Backfill.DIRECTIVE + "'): UPDATE " + table + " SET " + fresh + " = " + col
                    + "; then switch the application to " + fresh + " and drop " + col);
        }
        return c.effectOf(Lock.ACCESS_EXCLUSIVE, Boolean.TRUE.equals(rewrites), Boolean.TRUE.equals(rewrites), false);
    }
}
