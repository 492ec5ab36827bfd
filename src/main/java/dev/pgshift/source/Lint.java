package dev.pgshift.source;

import java.util.ArrayList;
import java.util.List;

/**
 * The lint ("plan for downtime"): classifies every pending statement by what PostgreSQL will do to the existing table
 * ({@link Classifier}), weighs what it touches with the live table's rows and size on disk against each rule's
 * threshold, looks for long-open transactions the statement's lock would queue behind, and decides each finding: warn,
 * refuse (--lint enforce), allowed (an override with its reason on the statement) or under the threshold. Tables an
 * earlier pending migration creates are new and empty: statements on them are exempt.
 */
public final class Lint {

    private Lint() {
    }

    /**
     * @param pending pending migrations, in order
     * @param catalog the live database
     * @throws dev.pgshift.PgshiftException exit 3 for an override that names no rule or gives no reason
     */
    public static List<Finding> check(List<MigrationScript> pending, TableCatalog catalog, LintSettings settings) {
        if (settings.mode() == LintSettings.Mode.OFF) {
            return List.of();
        }
        Lint.Run run = new Lint.Run(catalog, settings);
        for (MigrationScript m : pending) {
            Allowances allow = Allowances.of(m.file(), m.statements());
            run.names.newFile();
            int k = -1;
            for (SqlStatement s : m.statements()) {
                k++;
                run.statement(m, k, s, allow);
            }
        }
        return run.findings();
    }

    /** Findings of one rule, file, table and decision beyond this many are told as a count on the last one shown. */
    static final int SHOWN_ALIKE = 10;

    /**
     * What one statement, alone, does to the existing table it works on, as the lint classifies it for the catalog's
     * server (null when it works on no table the lint follows): what LintProofIT checks against what the server does.
     */
    public static Effect effect(SqlStatement s, TableCatalog catalog) {
        Names names = new Names();
        names.catalog(catalog);
        return Classifier.classify(s, catalog, new Classifier.Pending(), false, names::resolve).effect();
    }

    /** One lint over a pending set: where its names lead, what it has found. */
    private static final class Run {
        private final Names names = new Names();
        private final TableCatalog catalog;
        private final LintSettings settings;
        private final Classifier.Pending state = new Classifier.Pending();
        private final List<Finding> out = new ArrayList<>();
        // A data file's 200,000 UPDATEs are one problem, not 200,000 findings: of the findings alike (rule, file, table,
        // decision), the first SHOWN_ALIKE are kept, the last of them telling how many more there are and where.
        private final java.util.Map<String, int[]> alike = new java.util.HashMap<>(); // count, index of the last kept, last line

        List<Finding> findings() {
            for (int[] a : alike.values()) {
                if (a[0] > SHOWN_ALIKE) {
                    Finding f = out.get(a[1]);
                    out.set(a[1], new Finding(f.rule(), f.version(), f.file(), f.line(), f.statement(), f.table(), f.lock(), f.rewrite(), f.scan(),
                            f.waits(), f.rows(), f.bytes(), f.threshold(), f.decision(), f.reason(), f.risk() + "; and " + (a[0] - SHOWN_ALIKE)
                                    + " more statement(s) like it in this file, up to line " + a[2], f.saferForm()));
                }
            }
            return List.copyOf(out);
        }

        Run(TableCatalog catalog, LintSettings settings) {
            this.catalog = new CachedCatalog(catalog, names);
            this.settings = settings;
            names.catalog(this.catalog);
        }

        void statement(MigrationScript m, int k, SqlStatement s, Allowances allow) {
            for (String name : s.truncatedNames()) {
                always(m, s, allow, LintRule.NAME_TRUNCATED, "the name " + QualifiedName.display(name) + " is longer than " + QualifiedName.MAX_BYTES
                        + " bytes: PostgreSQL cuts it to " + QualifiedName.display(QualifiedName.truncate(name)) + " (with a NOTICE), and the "
                        + "catalog, pg_dump and every later migration see only that", "shorten the name in the migration to " + QualifiedName.MAX_BYTES
                        + " bytes or fewer, so that the file and the catalog agree");
            }
            if (names.searchPath(s)) {
                return;
            }
            if (s.startsWith("CREATE", "TABLE") || s.startsWith("CREATE", "UNLOGGED", "TABLE")) {
                int at = s.words().indexOf("TABLE") + 1;
                boolean ifNotExists = s.containsSequence("TABLE", "IF", "NOT", "EXISTS");
                QualifiedName made = s.qualifiedNameAt(ifNotExists ? at + 3 : at);
                if (made != null) {
                    names.created(made, ifNotExists);
                }
                return;
            }
            if (s.startsWith("DO")) {
                always(m, s, allow, LintRule.UNCHECKED_DO_BLOCK, "statements inside a DO block are not checked by the plan",
                        "review the block by hand, or write its statements as plain SQL so the plan can check them");
                return;
            }
            if (s.startsWith("ALTER", "TYPE") && s.containsSequence("ADD", "VALUE")) {
                boolean oneTransaction = m.mode() == ExecutionMode.TRANSACTION || m.mode() == ExecutionMode.OWN && inBlock(m, k);
                if (oneTransaction && usedLater(s, m.statements().after(k + 1))) {
                    always(m, s, allow, LintRule.ENUM_VALUE_IN_TRANSACTION, "a value added by ALTER TYPE ... ADD VALUE cannot be used until its "
                            + "transaction commits", "put ALTER TYPE ... ADD VALUE in a migration of its own, before the migrations that use the value");
                }
                return;
            }
            Classifier.Classified c = Classifier.classify(s, catalog, state, m.mode() == ExecutionMode.BACKFILL, names::resolve);
            Effect e = c.effect();
            if (e != null && !names.isNew(e.table()) && catalog.exists(e.table())) {
                weigh(m, s, allow, c, e);
            }
            renamed(s, e);
        }

        private void weigh(MigrationScript m, SqlStatement s, Allowances allow, Classifier.Classified c, Effect e) {
            for (Classifier.Hit h : c.hits()) {
                long rows = catalog.rows(e.table());
                long bytes = catalog.bytes(e.table());
                LintSettings.Threshold th = settings.threshold(h.rule());
                boolean reached = rows < 0 || th.reached(rows, Math.max(0, bytes));
                add(m, s, allow, h.rule(), e, rows < 0 ? null : rows, bytes < 0 ? null : bytes, th.toString(), reached, h.risk(), h.safer());
            }
            LintSettings.Threshold age = settings.threshold(LintRule.LOCK_QUEUE);
            List<String> blockers = new ArrayList<>(catalog.blockers(e.waits() ? null : e.table(), e.lock(), age.age()));
            QualifiedName ref = c.referenced();
            if (ref != null && !names.isNew(ref) && !ref.equals(e.table())) {
                catalog.blockers(ref, Effect.Lock.SHARE_ROW_EXCLUSIVE, age.age()).forEach(b -> blockers.add(b + " (on the referenced table " + ref + ")"));
            }
            if (!blockers.isEmpty()) {
                String lock = e.lock().pgName();
                add(m, s, allow, LintRule.LOCK_QUEUE, e, null, null, age.toString(), true, (e.waits() ? "waits for every older transaction, and "
                        + "these have been open long: " : "needs " + (lock.startsWith("A") || lock.startsWith("E") ? "an " : "a ") + lock + " on "
                        + e.table() + (ref != null ? " (and a ShareRowExclusiveLock on " + ref + ")" : "") + " that these long-open transactions "
                        + "hold against, and every query on the table queues behind it while it waits: ") + String.join("; ", blockers),
                        "run when they have finished (or end them, e.g. SELECT pg_terminate_backend(pid)); pgshift gives up each try after "
                                + "--lock-timeout and tries again --lock-retries times, so the queue it causes stays short");
            }
        }

        /** {@code ALTER TABLE t RENAME TO n} or {@code SET SCHEMA s}: later statements find the table under its new name. */
        private void renamed(SqlStatement s, Effect e) {
            List<String> w = s.words();
            int to = w.indexOf("RENAME");
            int schema = s.firstOutsideParentheses(0, i -> w.get(i).equals("SCHEMA") && w.get(i - 1).equals("SET"));
            if (e == null || !s.startsWith("ALTER", "TABLE")) {
                return;
            }
            if (to > 0 && to + 2 < w.size() && w.get(to + 1).equals("TO") && s.nameAt(to + 2) != null) {
                names.renamed(e.table(), new QualifiedName(e.table().schema(), s.nameAt(to + 2)));
            } else if (schema > 0 && s.nameAt(schema + 1) != null) {
                names.renamed(e.table(), new QualifiedName(s.nameAt(schema + 1), e.table().name()));
            }
        }

        private void always(MigrationScript m, SqlStatement s, Allowances allow, LintRule rule, String risk, String safer) {
            add(m, s, allow, rule, null, null, null, "", true, risk, safer);
        }

        private void add(MigrationScript m, SqlStatement s, Allowances allow, LintRule rule, Effect e, Long rows, Long bytes, String threshold,
                boolean reached, String risk, String safer) {
            String reason = allow.reason(s.line(), rule);
            String decision = !reached ? Finding.UNDER_THRESHOLD : reason != null ? Finding.ALLOWED
                    : settings.mode() == LintSettings.Mode.ENFORCE ? Finding.REFUSE : Finding.WARN;
            int[] a = alike.computeIfAbsent(rule.id() + "\u0000" + m.file().displayPath() + "\u0000" + (e == null ? "" : e.table()) + "\u0000" + decision,
                    k -> new int[3]);
            a[2] = s.line();
            if (++a[0] > SHOWN_ALIKE) {
                return;
            }
            a[1] = out.size();
            out.add(new Finding(rule.id(), m.version(), m.file().displayPath(), s.line(), s.excerpt(100), e == null ? null : e.table().toString(),
                    e == null ? null : e.lock().pgName(), e != null && e.rewrite(), e != null && e.scan(), e != null && e.waits(), rows, bytes,
                    threshold, decision, reached ? reason : null, risk, safer));
        }
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

}
