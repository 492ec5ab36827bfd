package dev.pgshift.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.PgshiftException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Where a pending statement's name leads (renames, moves, CREATE ... IF NOT EXISTS, a table of the same name in another
 * schema, SET search_path in the file), the overrides' reading, the settings' bounds, and the rules and safe forms a
 * hostile review found missing. The catalog here is a table of qualified names and sizes; LintProofIT asks a server.
 */
class LintNamesTest {

    /** Tables that exist now, "schema.name" to rows; the session's search_path is public. */
    static TableCatalog catalog(Map<String, Long> tables) {
        return new TableCatalog() {
            @Override
            public boolean exists(QualifiedName t) {
                return tables.containsKey(t.schema() + "." + t.name());
            }

            @Override
            public Boolean rewrites(QualifiedName table, String column, String newType) {
                return null;
            }

            @Override
            public long rows(QualifiedName t) {
                return tables.getOrDefault(t.schema() + "." + t.name(), -1L);
            }

            @Override
            public List<String> searchPath() {
                return List.of("public");
            }
        };
    }

    static final TableCatalog DB = catalog(Map.of("public.big", 1_000_000L, "My Schema.Big Table", 300_000L, "My Schema.big", 0L));

    /** "rule table decision" of each finding of the files (name, sql, name, sql ...), as one pending set. */
    static List<String> lint(LintSettings settings, String... files) {
        List<MigrationFile> f = new ArrayList<>();
        for (int i = 0; i < files.length; i += 2) {
            f.add(new MigrationFile(files[i], "/m", files[i + 1]));
        }
        return Lint.check(MigrationCatalog.order(f), DB, settings).stream().map(x -> x.rule() + " " + x.table() + " " + x.decision()).toList();
    }

    static List<String> lint(String... files) {
        return lint(LintSettings.DEFAULT, files);
    }

    @Test
    void aTableRenamedOrMovedByAnEarlierPendingMigrationIsWeighedAsTheTableItIs() {
        assertEquals(List.of("add-check public.big_renamed warn"), lint("V1__a.sql", "ALTER TABLE big RENAME TO big_renamed;",
                "V2__b.sql", "ALTER TABLE big_renamed ADD CONSTRAINT r1 CHECK (a > 0);"));
        assertEquals(List.of("add-check archive.big warn"), lint("V1__a.sql", "ALTER TABLE big SET SCHEMA archive;",
                "V2__b.sql", "ALTER TABLE archive.big ADD CONSTRAINT r1 CHECK (a > 0);"));
        assertEquals(List.of(), lint("V1__a.sql", "CREATE TABLE fresh (a int);\nALTER TABLE fresh RENAME TO fresher;",
                "V2__b.sql", "ALTER TABLE fresher ADD CONSTRAINT r1 CHECK (a > 0);"), "a new table stays new under its new name");
    }

    @Test
    void onlyATableThePendingSetReallyCreatesIsExempt() {
        assertEquals(List.of("add-check public.big warn"), lint("V1__a.sql", "CREATE TABLE IF NOT EXISTS big (id int, a int);",
                "V2__b.sql", "ALTER TABLE big ADD CONSTRAINT e1 CHECK (a > 0);"), "IF NOT EXISTS found it there: nothing was created");
        assertEquals(List.of("add-check public.big warn"), lint("V1__a.sql", "CREATE SCHEMA other;\nCREATE TABLE other.big (id int, a int);",
                "V2__b.sql", "ALTER TABLE big ADD CONSTRAINT e1 CHECK (a > 0);\nALTER TABLE other.big ADD CONSTRAINT e2 CHECK (a > 0);"),
                "other.big is new; big is public.big");
    }

    @Test
    void aSearchPathSetInTheFileLeadsItsNamesUntilTheFileEnds() {
        assertEquals(List.of("add-check \"My Schema\".\"Big Table\" warn", "add-check \"My Schema\".big under-threshold", "add-check public.big warn"),
                lint("V1__a.sql", "SET search_path TO \"My Schema\", public;\nALTER TABLE \"Big Table\" ADD CONSTRAINT s1 CHECK (\"Col\" > 0);\n"
                        + "ALTER TABLE big ADD CONSTRAINT s2 CHECK (a > 0);", "V2__b.sql", "ALTER TABLE big ADD CONSTRAINT s3 CHECK (a > 0);"));
    }

    @Test
    void overridesAreReadOnlyWhereTheyCanBeAndRefusedWhereTheyLookLikeOne() {
        String body = "CREATE FUNCTION fx() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  -- pgshift:allow is not needed here\nEND $$;\n"
                + "SELECT '-- pgshift:allow nothing';\n";
        assertEquals(List.of(), lint("V1__a.sql", body), "a function's body and a literal are the statement's own text");
        assertEquals(List.of(), lint(new LintSettings(LintSettings.Mode.OFF, Map.of()), "V1__a.sql", "-- PGSHIFT:ALLOW add-check\nSELECT 1;"),
                "--lint off reads no override");
        for (String bad : List.of("-- PGSHIFT:ALLOW ADD-CHECK REASON=\"x\"\n", "/* pgshift:allow add-check reason=\"x\" */\n")) {
            PgshiftException e = assertThrows(PgshiftException.class, () -> lint("V1__a.sql", bad + "ALTER TABLE big ADD CONSTRAINT c CHECK (a > 0);"));
            assertTrue(e.getMessage().startsWith("/m/V1__a.sql:1: this looks like a lint override but is not one as written"), e.getMessage());
        }
        PgshiftException trailing = assertThrows(PgshiftException.class, () -> lint("V1__a.sql",
                "ALTER TABLE big ADD CONSTRAINT c CHECK (a > 0); -- pgshift:allow add-check reason=\"x\"\nSELECT 1;"));
        assertTrue(trailing.getMessage().contains("on a line of its own"), trailing.getMessage());
        assertEquals(List.of("add-check public.big allowed"), lint(new LintSettings(LintSettings.Mode.ENFORCE, Map.of()), "V1__a.sql",
                "-- pgshift:allow add-check reason=\"window\"\n\n-- other words\nALTER TABLE big ADD CONSTRAINT c CHECK (a > 0);"));
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            many.append("-- pgshift:allow big-write reason=\"row ").append(i).append("\"\nUPDATE big SET a = 1 WHERE a = ").append(i).append(";\n");
        }
        long t0 = System.nanoTime();
        assertEquals(Lint.SHOWN_ALIKE, lint("V1__a.sql", many.toString()).size());
        assertTrue(System.nanoTime() - t0 < 20_000_000_000L, "20,000 overrides are read in one pass over the file");
    }

    @Test
    void thresholdsRefuseWhatTheyCannotMean() {
        for (String bad : List.of("add-check=5,add-check=7", "lock-queue=99999999999999h", "lock-queue=0s", "lock-queue=2d")) {
            assertThrows(PgshiftException.class, () -> LintSettings.parse("warn", "--lint", bad, "--lint-threshold"), bad);
        }
        LintSettings huge = LintSettings.parse("warn", "--lint", "add-check=9999999999TB", "--lint-threshold");
        assertTrue(!huge.threshold(LintRule.ADD_CHECK).reached(Long.MAX_VALUE / 2, Long.MAX_VALUE / 2), "more than any disk: never reached, not wrapped");
    }

    @Test
    void theRulesAHostileReviewFoundMissingAndSafeFormsThatKeepTheStatementsMeaning() {
        List<Finding> f = Lint.check(MigrationCatalog.order(List.of(new MigrationFile("V1__a.sql", "/m",
                "ALTER TABLE big ADD COLUMN x13 int UNIQUE;\n"
                        + "ALTER TABLE big ADD CONSTRAINT x17 EXCLUDE USING btree (a WITH =);\n"
                        + "CLUSTER big USING big_pkey;\n"
                        + "ALTER TABLE big SET UNLOGGED;\n"
                        + "ALTER TABLE big ADD CONSTRAINT u3 UNIQUE NULLS NOT DISTINCT (a) INCLUDE (b) WITH (fillfactor = 70) DEFERRABLE INITIALLY DEFERRED;\n"
                        + "ALTER TABLE ONLY big ADD CONSTRAINT c CHECK (a > 0);\n"
                        + "ALTER TABLE big ADD COLUMN IF NOT EXISTS e uuid NOT NULL DEFAULT gen_random_uuid();\n"))), DB, LintSettings.DEFAULT);
        assertEquals(List.of("add-unique 1", "add-unique 2", "rewrite-table 3", "rewrite-table 4", "add-unique 5", "add-check 6", "add-column-rewrite 7"),
                f.stream().map(x -> x.rule() + " " + x.line()).toList());
        assertTrue(f.get(4).saferForm().startsWith("CREATE UNIQUE INDEX CONCURRENTLY u3 ON public.big (a) NULLS NOT DISTINCT INCLUDE (b) WITH "
                + "(fillfactor = 70);") && f.get(4).saferForm().endsWith("ADD CONSTRAINT u3 UNIQUE USING INDEX u3 DEFERRABLE INITIALLY DEFERRED;"),
                f.get(4).saferForm());
        assertTrue(f.get(5).saferForm().startsWith("ALTER TABLE ONLY big ADD CONSTRAINT c CHECK (a > 0) NOT VALID;"), f.get(5).saferForm());
        assertTrue(f.get(6).saferForm().startsWith("ALTER TABLE big ADD COLUMN e uuid;") && f.get(6).saferForm().contains("set-not-null way"),
                f.get(6).saferForm());
    }
}
