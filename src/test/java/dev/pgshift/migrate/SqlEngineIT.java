package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reproducers of "one SQL engine": each case where plan and migrate read SQL differently, or where a migration ran
 * otherwise than psql would run it, against the packaged artifact and a real server.
 */
class SqlEngineIT {
    /** Wording of Flyway's that must never reach a pgshift user: its options, methods and advice. */


    @TempDir
    Path tmp;

    private Path dir;

    private void write(String name, String sql) throws Exception {
        Path f = dir.resolve(name);
        Files.createDirectories(f.getParent());
        Files.writeString(f, sql);
    }

    private List<String> args(String command, String... more) {
        List<String> a = Fixtures.args(command, dir, more);
        if (PgshiftProcess.backsUp(command)) {
            a.add("--backup=never");
        }
        return a;
    }

    private static void assertNoFlywayWording(Result r) {
        assertFalse(dev.pgshift.testing.FlywayWording.PATTERN.matcher(r.stdout()).find(), "Flyway wording on stdout: " + r.stdout());
        assertFalse(dev.pgshift.testing.FlywayWording.PATTERN.matcher(r.stderr().replaceAll("(?m)^.*\\[o\\.f\\.[^]]*].*$", "")).find(),
                "Flyway wording in pgshift's messages: " + r.stderr());
    }

    private JsonNode plan(TestDb db) throws Exception {
        Result r = PgshiftProcess.run(args("plan", "--json"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        return new ObjectMapper().readTree(r.stdout());
    }

    private static String mode(JsonNode plan, String version) {
        for (JsonNode m : plan.get("migrations")) {
            if (m.get("version").asText().equals(version)) {
                return m.get("mode").asText();
            }
        }
        throw new AssertionError(version + " not in " + plan);
    }

    @Test
    void reindexFormsAndTheirPlanAgreeWithWhatMigrateDoes() throws Exception {
        TestDb db = PgServer.get().newDatabase("reindex");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__t.sql", "CREATE TABLE t (a int);\nCREATE INDEX t_a_idx ON t (a);\nINSERT INTO t SELECT generate_series(1, 100);\n");
        write("V2__schema.sql", "REINDEX SCHEMA public;\n");
        write("V3__options.sql", "REINDEX (CONCURRENTLY) INDEX t_a_idx;\n");
        write("V4__verbose.sql", "REINDEX (VERBOSE) INDEX t_a_idx;\n");
        JsonNode plan = plan(db);
        assertEquals("outside transaction", mode(plan, "2"));
        assertEquals("outside transaction", mode(plan, "3"));
        assertEquals("transaction", mode(plan, "4"));
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(List.of("1", "2", "3", "4"), db.appliedVersions());
    }

    @Test
    @org.junit.jupiter.api.Tag(dev.pgshift.testing.OneMajor.TAG) // pgshift's reading of the file and its report, whatever the server
    void aPsqlMetaCommandIsRefusedAtPlanWithItsLineAndNothingRuns() throws Exception {
        TestDb db = PgServer.get().newDatabase("meta");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__t.sql", "CREATE TABLE t (a int);\n");
        write("V2__idx.sql", "-- build it\n\\set ON_ERROR_STOP on\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);\n");
        Result plan = PgshiftProcess.run(args("plan"), db.env());
        assertEquals(3, plan.exitCode(), plan.toString());
        assertTrue(plan.stderr().contains("V2__idx.sql:2: psql meta-command '\\set ON_ERROR_STOP on' is not SQL"), plan.stderr());
        Result run = PgshiftProcess.run(args("run"), db.env());
        assertEquals(3, run.exitCode(), run.toString());
        assertEquals(List.of(), db.appliedVersions());
        assertEquals(null, db.scalar("select to_regclass('t')"), "nothing ran");
        assertNoFlywayWording(run);
    }

    @Test
    @org.junit.jupiter.api.Tag(dev.pgshift.testing.OneMajor.TAG) // pgshift's reading of the file and its report, whatever the server
    void copyFromStdinDataIsDataAndAnIndexAfterItIsWarnedAbout() throws Exception {
        TestDb db = PgServer.get().newDatabase("copy");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__t.sql", "CREATE TABLE t (id int, note text);\n");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        write("V2__load.sql", "COPY t (id, note) FROM stdin;\n1\tVACUUM t\n2\tCREATE INDEX CONCURRENTLY x ON t (id);\n\\.\n"
                + "CREATE INDEX t_note ON t (note);\n");
        JsonNode plan = plan(db);
        assertEquals("transaction", mode(plan, "2"));
        assertEquals(1, plan.get("lint").size(), plan.toPrettyString());
        assertEquals(5, plan.get("lint").get(0).get("line").asInt());
        assertEquals("CREATE INDEX t_note ON t (note)", plan.get("lint").get(0).get("statement").asText());
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("1:VACUUM t,2:CREATE INDEX CONCURRENTLY x ON t (id);", db.scalar("select string_agg(id || ':' || note, ',' order by id) from t"));
    }

    @Test
    void aRollbackScriptWithARuleADoBlockAndDollarQuotesRuns() throws Exception {
        TestDb db = PgServer.get().newDatabase("rule");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__t.sql", "CREATE TABLE t (id int);\nCREATE TABLE audit (id int);\n");
        write("V2__rule.sql", "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO audit VALUES (NEW.id); INSERT INTO audit VALUES (-NEW.id));\n");
        write("V2__rule.rollback.sql", "DROP RULE r ON t;\n"
                + "CREATE RULE r2 AS ON DELETE TO t DO ALSO (INSERT INTO audit VALUES (OLD.id); INSERT INTO audit VALUES (-OLD.id));\n"
                + "DO $$ BEGIN PERFORM 1; END $$;\n"
                + "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $body$ BEGIN RETURN $$;$$; END $body$;\n");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Result verify = PgshiftProcess.run(args("verify"), db.env());
        assertEquals(0, verify.exitCode(), verify.toString());
        assertFalse(verify.stdout().contains("  applied "), "verify applies nothing and does not list it: " + verify.stdout());
        db.execute("INSERT INTO t VALUES (7)");
        assertEquals("2", db.scalar("select count(*) from audit"));
        Result r = PgshiftProcess.run(args("rollback", "--to", "1"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(List.of("1"), db.appliedVersions());
        assertTrue(r.stdout().contains("  rolled back 1 migration(s):"), "a rollback's list is what it rolled back: " + r.stdout());
        assertFalse(r.stdout().contains("  applied "), r.stdout());
        assertEquals("r2", db.scalar("select string_agg(rulename, ',') from pg_rules where tablename = 't'"));
        assertEquals(";", db.scalar("select f()"));
    }

    @Test
    void detachingAPartitionThatDoesNotExistIsAnErrorNotASkip() throws Exception {
        TestDb db = PgServer.get().newDatabase("detach");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__m.sql", "CREATE TABLE m (k int) PARTITION BY RANGE (k);\n"
                + "CREATE TABLE m_2031 PARTITION OF m FOR VALUES FROM (2031) TO (2032);\n");
        write("V2__detach.sql", "ALTER TABLE m DETACH PARTITION m_2032 CONCURRENTLY;\n");
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(5, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("V2__detach.sql:1: there is no table m_2032 to detach from m"), r.stderr());
        assertFalse(r.stderr().contains("already detached"), r.stderr());
        assertEquals(List.of("1"), db.appliedVersions());
        Files.writeString(dir.resolve("V2__detach.sql"), "ALTER TABLE m DETACH PARTITION m_2031 CONCURRENTLY;\n");
        Result fixed = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, fixed.exitCode(), fixed.toString());
        assertEquals("0", db.scalar("select count(*) from pg_inherits"));
    }

    @Test
    void aMixedCaseSchemaRunsVerifiesAndRollsBack() throws Exception {
        TestDb db = PgServer.get().newDatabase("mixed");
        db.execute("CREATE SCHEMA \"MySchema\"");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__t.sql", "CREATE TABLE t (id int);\n");
        write("V2__idx.sql", "CREATE INDEX CONCURRENTLY t_id ON t (id);\n");
        write("V2__idx.rollback.sql", "DROP INDEX CONCURRENTLY IF EXISTS t_id;\n");
        write("V3__col.sql", "ALTER TABLE t ADD COLUMN note text;\n");
        write("V3__col.rollback.sql", "ALTER TABLE t DROP COLUMN note;\n");
        for (List<String> a : List.of(args("run", "--schema", "MySchema"), args("run", "--schema", "MySchema"),
                args("verify", "--schema", "MySchema"), args("rollback", "--to", "1", "--schema", "MySchema"),
                args("run", "--schema", "MySchema"))) {
            Result r = PgshiftProcess.run(a, db.env());
            assertEquals(0, r.exitCode(), a + "\n" + r);
        }
        assertEquals("3", db.scalar("select count(*) from \"MySchema\".flyway_schema_history where success"));
        assertEquals(null, db.scalar("select to_regclass('myschema.flyway_schema_history')"));
    }

    @Test
    @org.junit.jupiter.api.Tag(dev.pgshift.testing.OneMajor.TAG) // pgshift's reading of the file and its report, whatever the server
    void aFileWithItsOwnTransactionsIsPlannedAndReportedTruthfully() throws Exception {
        TestDb db = PgServer.get().newDatabase("own");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__t.sql", "CREATE TYPE \"Status\" AS ENUM ('A', 'B', 'C');\nCREATE TABLE t (id int, status \"Status\");\n");
        write("V2__enum.sql", "-- AlterEnum\nBEGIN;\nCREATE TYPE \"Status_new\" AS ENUM ('A', 'B');\n"
                + "ALTER TABLE t ALTER COLUMN status TYPE \"Status_new\" USING (status::text::\"Status_new\");\n"
                + "ALTER TYPE \"Status\" RENAME TO \"Status_old\";\nALTER TYPE \"Status_new\" RENAME TO \"Status\";\nDROP TYPE \"Status_old\";\n"
                + "COMMIT;\n\n-- AlterTable\nALTER TABLE t ADD COLUMN note text;\nALTER TABLE nowhere ADD COLUMN x int;\n");
        assertEquals("own transactions", mode(plan(db), "2"));
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(5, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("V2__enum.sql:12: ALTER TABLE nowhere ADD COLUMN x int"), r.stderr());
        assertTrue(r.stderr().contains("42P01"), r.stderr());
        assertTrue(r.stderr().contains("The statements up to line 11, committed by the file's own transactions, stay applied"), r.stderr());
        assertFalse(r.stderr().contains("rolled back: nothing of"), r.stderr());
        assertEquals("{A,B}", db.scalar("select enum_range(null::\"Status\")::text"), "what the file committed is there");
        assertNoFlywayWording(r);
        assertTrue(r.stderr().contains("the next run resumes with the part that failed."), r.stderr());
        assertEquals("resume", plan(db).get("migrations").get(1).get("state").asText(), "plan says the file resumes");
        // The next run goes on after what committed (the enum change and ADD COLUMN note are not run again) and meets the
        // same failing statement: the file as written cannot succeed.
        Result again = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(5, again.exitCode(), again.toString());
        assertTrue(again.stderr().contains("V2__enum.sql committed 8 of its statements in an earlier run (up to line 11): it resumes after them"),
                again.stderr());
        assertTrue(again.stderr().contains("V2__enum.sql:12: ALTER TABLE nowhere ADD COLUMN x int"), again.stderr());
        assertEquals("{A,B}", db.scalar("select enum_range(null::\"Status\")::text"));
        assertEquals("1", db.scalar("select count(*) from information_schema.columns where table_name = 't' and column_name = 'note'"));
        // Edited after it committed part of itself: not resumed (what ran may differ from the file now), repair says how.
        write("V2__enum.sql", Files.readString(dir.resolve("V2__enum.sql")).replace("nowhere", "t"));
        Result edited = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(3, edited.exitCode(), edited.toString());
        assertTrue(edited.stderr().contains("and it was edited since (pgshift resumes a file only as it was: restore it"), edited.stderr());
        assertTrue(edited.stderr().contains("pgshift repair --applied 2"), edited.stderr());
    }

    @Test
    void aFileWithItsOwnTransactionsThatCommittedNothingRunsAgainOnceFixed() throws Exception {
        TestDb db = PgServer.get().newDatabase("ownclean");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__t.sql", "CREATE TABLE t (id int);\n");
        write("V2__own.sql", "BEGIN;\nALTER TABLE t ADD COLUMN a int;\nALTER TABLE nowhere ADD COLUMN b int;\nCOMMIT;\n");
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(5, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("nothing of this file was committed"), r.stderr());
        assertEquals("0", db.scalar("select count(*) from information_schema.columns where table_name = 't' and column_name = 'a'"));
        Files.writeString(dir.resolve("V2__own.sql"), "BEGIN;\nALTER TABLE t ADD COLUMN a int;\nALTER TABLE t ADD COLUMN b int;\nCOMMIT;\n");
        Result fixed = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, fixed.exitCode(), fixed.toString());
        assertEquals(List.of("1", "2"), db.appliedVersions());
    }

    @Test
    void aFailingStatementIsReportedInPgshiftsWordsWithFileLineAndSqlstate() throws Exception {
        TestDb db = PgServer.get().newDatabase("errors");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V20240302100000__add_b.sql", "CREATE TABLE t (a int);\n\n-- the broken one\nCREATE VIEW v AS SELECT a,\n  no_such_column FROM t;\n");
        Result r = PgshiftProcess.run(args("run"), db.env());
        assertEquals(5, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("V20240302100000__add_b.sql:4: CREATE VIEW v AS SELECT a, no_such_column FROM t"), r.stderr());
        assertTrue(r.stderr().contains("ERROR 42703: column \"no_such_column\" does not exist"), r.stderr());
        assertTrue(r.stderr().contains("at " + dir + "/V20240302100000__add_b.sql:5"), "the line the server pointed at: " + r.stderr());
        assertTrue(r.stderr().contains("its transaction was rolled back: nothing of"), r.stderr());
        assertEquals(null, db.scalar("select to_regclass('t')"), "rolled back whole");
        assertNoFlywayWording(r);
        Result plan = PgshiftProcess.run(args("plan"), db.env());
        assertNoFlywayWording(plan);
    }

    @Test
    void theServersDetailAndHintReachTheUser() throws Exception {
        TestDb db = PgServer.get().newDatabase("hint");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__t.sql", "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int DEFAULT no_such_function(1);\n");
        Result r = PgshiftProcess.run(args("run"), db.env());
        assertEquals(5, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("V1__t.sql:2: ALTER TABLE t ADD COLUMN b int DEFAULT no_such_function(1)"), r.stderr());
        assertTrue(r.stderr().contains("ERROR 42883: function no_such_function(integer) does not exist"), r.stderr());
        assertTrue(r.stderr().contains("hint: No function matches the given name and argument types."), r.stderr());
        assertNoFlywayWording(r);
    }

    @Test
    void migrationsSeeTheSearchPathPsqlGivesThem() throws Exception {
        TestDb db = PgServer.get().newDatabase("searchpath");
        db.execute("CREATE SCHEMA auth");
        db.execute("ALTER ROLE " + db.user() + " SET search_path = auth");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__t.sql", "CREATE TABLE sessions (id int);\n");
        write("V2__idx.sql", "CREATE INDEX CONCURRENTLY sessions_id ON sessions (id);\n");
        Result r = PgshiftProcess.run(args("run"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("auth", db.scalar("select relnamespace::regnamespace::text from pg_class where relname = 'sessions'"),
                "where psql (and Prisma) would create it");
        assertEquals("auth", db.scalar("select relnamespace::regnamespace::text from pg_class where relname = 'sessions_id'"));
        assertEquals("public", db.scalar("select relnamespace::regnamespace::text from pg_class where relname = 'flyway_schema_history'"));
        assertEquals(0, PgshiftProcess.run(args("run"), db.env()).exitCode());
    }

    @Test
    void typeChangesThatDoNotRewriteAreNotWarnedAbout() throws Exception {
        TestDb db = PgServer.get().newDatabase("rewrite");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__t.sql", "CREATE TABLE t (a varchar(32), b varchar(2048), c int, d numeric(10,2), e text, f varchar(10));\n");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        write("V2__types.sql", "ALTER TABLE t ALTER COLUMN a TYPE varchar(39);\n"
                + "ALTER TABLE t ALTER COLUMN b TYPE text;\n"
                + "ALTER TABLE \"t\" ALTER COLUMN \"a\" TYPE VARCHAR(39);\n"
                + "ALTER TABLE t ALTER COLUMN d TYPE numeric(12,2);\n"
                + "ALTER TABLE t ALTER COLUMN e SET DATA TYPE varchar;\n"
                + "ALTER TABLE t ALTER COLUMN c TYPE bigint;\n"
                + "ALTER TABLE t ALTER COLUMN f TYPE varchar(5);\n"
                + "ALTER TABLE t ALTER COLUMN d TYPE numeric(12,3);\n"
                + "ALTER TABLE t ALTER COLUMN e TYPE int USING e::int;\n");
        JsonNode warnings = plan(db).get("lint");
        List<Integer> lines = new ArrayList<>();
        warnings.forEach(w -> lines.add(w.get("line").asInt()));
        assertEquals(List.of(6, 7, 8, 9), lines, warnings.toPrettyString());
        assertEquals("ALTER TABLE t ALTER COLUMN c TYPE bigint", warnings.get(0).get("statement").asText());
        assertTrue(warnings.get(0).get("risk").asText().startsWith("rewrites public.t "), warnings.toPrettyString());
    }

    @Test
    void addValueIsWarnedAboutOnlyWhereTheValueIsUsedInTheSameTransaction() throws Exception {
        TestDb db = PgServer.get().newDatabase("addvalue");
        dir = Files.createDirectories(tmp.resolve("m"));
        write("V1__t.sql", "CREATE TYPE \"Role\" AS ENUM ('USER');\nCREATE TABLE t (id int PRIMARY KEY, role \"Role\");\n");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        write("V2__add.sql", "ALTER TYPE \"Role\" ADD VALUE 'ADMIN';\nALTER TABLE t ADD COLUMN note text;\n");
        write("V3__use.sql", "ALTER TYPE \"Role\" ADD VALUE 'GUEST';\nALTER TABLE t ALTER COLUMN role SET DEFAULT 'GUEST';\n");
        JsonNode warnings = plan(db).get("lint");
        assertEquals(1, warnings.size(), warnings.toPrettyString());
        assertTrue(warnings.get(0).get("file").asText().endsWith("V3__use.sql"));
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(5, r.exitCode(), "PostgreSQL refuses the new value in the same transaction, as warned: " + r);
        assertTrue(r.stderr().contains("55P04"), r.stderr());
    }

}
