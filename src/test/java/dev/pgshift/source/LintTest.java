package dev.pgshift.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LintTest {

    private static List<Finding> warnings(String sql, String... existing) {
        List<MigrationScript> scripts = MigrationCatalog.order(List.of(new MigrationFile("V1__m.sql", "/m", sql)));
        Set<String> tables = Set.of(existing);
        return under(Lint.check(scripts, new TableCatalog() {
            @Override
            public boolean exists(QualifiedName table) {
                return tables.contains(table.truncated().name());
            }

            @Override
            public Boolean rewrites(QualifiedName table, String column, String newType) {
                return null;
            }
        }, LintSettings.DEFAULT));
    }

    /** The findings that count (a catalog that knows no sizes counts every table as big). */
    static List<Finding> under(List<Finding> all) {
        return all.stream().filter(f -> !f.decision().equals(Finding.UNDER_THRESHOLD)).toList();
    }

    private static void flagged(String sql, String saferFragment) {
        List<Finding> w = warnings(sql, "users", "Characters");
        assertEquals(1, w.size(), sql + " -> " + w);
        assertTrue(w.get(0).saferForm().contains(saferFragment), w.get(0).saferForm());
        assertEquals("/m/V1__m.sql", w.get(0).file());
    }

    @Test
    void aBigUpdateIsFlaggedUnlessItsOwnWhereNamesTheKeyNotASubquerys() {
        TableCatalog big = new TableCatalog() {
            @Override
            public boolean exists(QualifiedName table) {
                return table.name().equals("big");
            }

            @Override
            public Boolean rewrites(QualifiedName table, String column, String newType) {
                return null;
            }

            @Override
            public long rows(QualifiedName table) {
                return 1_000_000;
            }

            @Override
            public List<String> keyColumns(QualifiedName table) {
                return List.of("id");
            }
        };
        java.util.function.Function<String, List<Finding>> check = sql -> Lint.check(
                MigrationCatalog.order(List.of(new MigrationFile("V1__m.sql", "/m", sql))), big, LintSettings.DEFAULT);
        assertEquals(1, check.apply("UPDATE big SET v = (SELECT x FROM o WHERE o.id = big.id);").size(), "a subquery's WHERE is not the UPDATE's");
        assertEquals(1, check.apply("UPDATE big SET v = 1 WHERE v IS NULL;").size());
        assertEquals(0, check.apply("UPDATE big SET v = 1 WHERE id < 100;").size());
    }

    @Test
    void theSeedsCheckConstraintIsFlaggedWithItsLine() {
        List<Finding> w = warnings("-- Add check constraint for daily quota\nALTER TABLE users ADD CONSTRAINT chk_daily_quota_positive CHECK (daily_quota > 0);",
                "users");
        assertEquals(1, w.size());
        assertEquals(2, w.get(0).line());
        assertEquals("ALTER TABLE users ADD CONSTRAINT chk_daily_quota_positive CHECK (daily_quota > 0)", w.get(0).statement(),
                "the file's own text, not upper-cased words");
        assertTrue(w.get(0).saferForm().contains("NOT VALID") && w.get(0).saferForm().contains("VALIDATE CONSTRAINT"));
    }

    @Test
    void eachRiskyFormNamesItsSaferForm() {
        flagged("ALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY (org_id) REFERENCES orgs(id)", "REFERENCES orgs(id) NOT VALID;");
        flagged("CREATE INDEX users_name ON users (name)", "CONCURRENTLY");
        flagged("CREATE UNIQUE INDEX users_name ON public.users (name)", "CONCURRENTLY");
        flagged("ALTER TABLE users ALTER COLUMN email SET NOT NULL", "IS NOT NULL) NOT VALID");
        flagged("ALTER TABLE users ALTER COLUMN daily_quota TYPE bigint", "ADD COLUMN daily_quota_new bigint;");
        flagged("ALTER TABLE users ALTER daily_quota SET DATA TYPE bigint", "ADD COLUMN daily_quota_new bigint;");
        flagged("ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()", "backfill");
        flagged("ALTER TABLE \"Characters\" ADD COLUMN n bigserial", "backfill");
        flagged("ALTER TYPE status ADD VALUE 'DONE';\nUPDATE characters SET s = 'DONE';", "migration of its own");
    }

    /** In a file with its own transactions, a value used in the same block fails (55P04); used after the block's COMMIT, it works. */
    @Test
    void aValueAddedAndUsedInOneOwnBlockIsFlaggedNotAcrossBlocks() {
        flagged("BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nINSERT INTO p VALUES ('meh');\nCOMMIT;\n", "migration of its own");
        assertEquals(List.of(), warnings("BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;\nBEGIN;\nINSERT INTO p VALUES ('meh');\nCOMMIT;\n"));
        assertEquals(List.of(), warnings("ALTER TYPE mood ADD VALUE 'meh';\nBEGIN;\nINSERT INTO p VALUES ('meh');\nCOMMIT;\n"),
                "outside a block it commits at once");
    }

    @Test
    void safeFormsAndNewTablesAreNotFlagged() {
        assertEquals(List.of(), warnings("ALTER TABLE users ADD CONSTRAINT c CHECK (daily_quota > 0) NOT VALID", "users"));
        assertEquals(List.of(), warnings("ALTER TABLE users VALIDATE CONSTRAINT c", "users"));
        assertEquals(List.of(), warnings("CREATE INDEX CONCURRENTLY users_name ON users (name)", "users"));
        assertEquals(List.of(), warnings("ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now()", "users"));
        assertEquals(List.of(), warnings("ALTER TABLE users ADD CONSTRAINT c CHECK (daily_quota > 0)"), "table does not exist yet");
        assertEquals(List.of(), warnings("CREATE TABLE users (id int);\nALTER TABLE users ADD CONSTRAINT c CHECK (id > 0);", "users"),
                "a table created earlier in the pending batch is empty");
        assertEquals(List.of(), warnings("ALTER TABLE characters ALTER COLUMN x TYPE text", "Characters"), "quoted name differs");
    }

    /** A data file of many statements on one table asks the live catalog about the table once, not once per statement. */
    @Test
    void theCatalogIsAskedOncePerTableNotPerStatement() {
        java.util.concurrent.atomic.AtomicInteger questions = new java.util.concurrent.atomic.AtomicInteger();
        TableCatalog counting = new TableCatalog() {
            @Override
            public boolean exists(QualifiedName table) {
                questions.incrementAndGet();
                return true;
            }

            @Override
            public Boolean rewrites(QualifiedName table, String column, String newType) {
                return null;
            }

            @Override
            public List<String> keyColumns(QualifiedName table) {
                questions.incrementAndGet();
                return List.of("id");
            }

            @Override
            public long rows(QualifiedName table) {
                questions.incrementAndGet();
                return 10;
            }

            @Override
            public List<String> blockers(QualifiedName table, Effect.Lock lock, java.time.Duration age) {
                questions.incrementAndGet();
                return List.of();
            }
        };
        StringBuilder sql = new StringBuilder();
        for (int i = 0; i < 5000; i++) {
            sql.append("UPDATE big SET v = ").append(i).append(" WHERE v IS NULL;\nINSERT INTO big VALUES (").append(i).append(");\n");
        }
        List<Finding> f = Lint.check(MigrationCatalog.order(List.of(new MigrationFile("V1__m.sql", "/m", sql.toString()))), counting,
                LintSettings.DEFAULT);
        assertEquals(Lint.SHOWN_ALIKE, f.size(), "5,000 alike findings (under the threshold: 10 rows) are told as ten");
        assertTrue(f.get(9).risk().endsWith("and 4990 more statement(s) like it in this file, up to line 9999"), f.get(9).risk());
        assertTrue(questions.get() <= 6, questions.get() + " questions for 10,000 statements on one table");
    }
}
