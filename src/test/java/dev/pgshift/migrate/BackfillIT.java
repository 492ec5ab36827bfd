package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgshift.Json;
import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.OneMajor;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backfill migrations (first line {@code -- pgshift:backfill}): the seed's own statement run in batches along the key of
 * a schema-qualified, mixed-case table whose name PostgreSQL truncates; every row updated exactly once (a trigger counts
 * updates per row) after kills and stops; refusals before anything runs; resumption, edits and repair; phases; rollback.
 */
class BackfillIT {
    @TempDir
    Path tmp;

    /** 71 characters: PostgreSQL keeps the first 63. */
    static final String TABLE = "\"Tenant Data\".\"Characters_" + "x".repeat(60) + "\"";
    static final String STORED = "\"Tenant Data\".\"Characters_" + "x".repeat(52) + "\"";

    /** The table, {@code rows} characters, every third already 'PENDING', the others NULL; a trigger counts each row's updates. */
    static String table(int rows) {
        return "CREATE SCHEMA \"Tenant Data\";\n"
                + "CREATE TABLE " + TABLE + " (\"Id\" bigint PRIMARY KEY, generation_status text, updates int NOT NULL DEFAULT 0);\n"
                + "CREATE FUNCTION \"Tenant Data\".count_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updates := OLD.updates + 1; "
                + "RETURN NEW; END $$;\n"
                + "CREATE TRIGGER counts BEFORE UPDATE ON " + TABLE + " FOR EACH ROW EXECUTE FUNCTION \"Tenant Data\".count_update();\n"
                + "INSERT INTO " + TABLE + " (\"Id\", generation_status) SELECT g * 3, CASE WHEN g % 3 = 0 THEN 'PENDING' END "
                + "FROM generate_series(1, " + rows + ") g;\n";
    }

    /** The seed's statement, on the table above, as a backfill with {@code options}. */
    static String seedBackfill(String options) {
        return "-- pgshift:backfill " + options + "\n-- the seed's data migration, written for the whole table\n"
                + "UPDATE " + TABLE + " SET generation_status = 'COMPLETED' WHERE generation_status IS NULL;\n";
    }

    /** Every NULL row became COMPLETED with exactly one update, the PENDING rows untouched: what the single UPDATE leaves. */
    static void assertEachRowOnce(TestDb db, int rows) {
        int pending = rows / 3;
        assertEquals(List.of(List.of("COMPLETED", "1", String.valueOf(rows - pending)), List.of("PENDING", "0", String.valueOf(pending))),
                db.query("select generation_status, updates, count(*) from " + STORED + " group by 1, 2 order by 1, 2"));
    }

    private Path dir;

    private List<String> args(String command, String... more) {
        return Fixtures.args(command, dir, more);
    }

    @Test
    void theSeedsStatementRunsInBatchesAlongTheKeyAndUpdatesEachRowOnce() throws Exception {
        TestDb db = PgServer.get().newDatabase("backfill");
        dir = Fixtures.write(tmp.resolve("m"), "V1__characters.sql", table(20_000));
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Fixtures.write(dir, "V2__complete.sql", seedBackfill("batch=1000 pause=0ms"));
        db.execute("analyze " + STORED);

        Result plan = PgshiftProcess.run(args("plan"), db.env());
        assertEquals(0, plan.exitCode(), plan.toString());
        assertTrue(plan.stdout().contains("backfill of " + STORED + " by (\"Id\"): about 20000 row(s), about 20 batch(es) at the first size"), plan.stdout());
        JsonNode planned = Json.MAPPER.readTree(PgshiftProcess.run(args("plan", "--json"), db.env()).stdout()).get("migrations").get(1);
        assertEquals("backfill", planned.get("mode").asText());
        assertEquals(20_000, planned.get("backfill").get("estimatedRows").asLong());

        Path report = tmp.resolve("report.json");
        Result r = PgshiftProcess.run(args("migrate", "--report-file", report.toString()), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEachRowOnce(db, 20_000);
        assertEquals(List.of("1", "2"), db.appliedVersions());
        JsonNode b = Json.MAPPER.readTree(Files.readString(report)).get("migrations").get(0).get("backfill");
        assertEquals(STORED, b.get("table").asText());
        assertEquals(20_000 - 20_000 / 3, b.get("rows").asLong());
        assertTrue(b.get("batches").asLong() >= 2, b.toString());
        assertTrue(r.stdout().contains((20_000 - 20_000 / 3) + " row(s) written, batched along " + STORED + " in "), r.stdout());
        assertEquals("t", db.scalar("select finished_at is not null from pgshift.backfill_progress where version = '2'"));

        Result again = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, again.exitCode(), again.toString());
        assertEachRowOnce(db, 20_000);
    }

    @Test
    void killsAndStopsLoseOnlyTheBatchInFlightAndTheNextRunGoesOnAfterIt() throws Exception {
        TestDb db = PgServer.get().newDatabase("backfill_kills");
        int rows = 60_000;
        dir = Fixtures.write(tmp.resolve("m"), "V1__characters.sql", table(rows));
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        // every row matched (no WHERE): a row a rerun updated again would count 2
        Fixtures.write(dir, "V2__complete.sql", "-- pgshift:backfill batch=300 target=0 pause=40ms\nUPDATE " + TABLE
                + " SET generation_status = coalesce(generation_status, 'COMPLETED');\n");
        Random random = new Random(20261207);
        int interrupted = 0;
        for (int k = 0; k < 3; k++) {
            PgshiftProcess run = PgshiftProcess.start(args("migrate"), db.env());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!run.stderrSoFar().contains("backfill 2:") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(200 + random.nextInt(1500));
            boolean term = k == 2;
            run.signal(term ? "TERM" : "KILL");
            Result r = run.await(Duration.ofSeconds(60));
            if (r.exitCode() == 0 || r.stderr().contains("backfill 2 done")) {
                break; // it finished first
            }
            interrupted++;
            assertEquals(term ? 75 : 137, r.exitCode(), r.toString());
            if (term) {
                assertTrue(r.stderr().contains("committed before stay done, and the next run goes on after them"), r.stderr());
            }
            assertEquals(List.of("1"), db.appliedVersions(), "recorded applied only when it is done");
        }
        assertTrue(interrupted >= 2, "the loop interrupted the backfill " + interrupted + " time(s)");
        Result last = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, last.exitCode(), last.toString());
        assertTrue(last.stderr().contains("resuming backfill 2 of " + STORED + " after key (\"Id\")=("), last.stderr());
        assertEquals(List.of(List.of("COMPLETED", "1", String.valueOf(rows - rows / 3)), List.of("PENDING", "1", String.valueOf(rows / 3))),
                db.query("select generation_status, updates, count(*) from " + STORED + " group by 1, 2 order by 1, 2"));
        assertEquals(List.of("1", "2"), db.appliedVersions());
    }

    @Test
    @Tag(OneMajor.TAG) // the files are read the same way whatever the server
    void whatCannotBeBatchedIsRefusedBeforeAnythingRuns() throws Exception {
        TestDb db = PgServer.get().newDatabase("backfill_refused");
        dir = Fixtures.write(tmp.resolve("m"), "V1__t.sql", "CREATE TABLE \"Logs\" (msg text, at timestamptz);\n"
                + "INSERT INTO \"Logs\" SELECT 'm' || g, now() FROM generate_series(1, 100) g;\n");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        String before = db.catalogSnapshot();

        Files.writeString(dir.resolve("V2__nokey.sql"), "-- pgshift:backfill\nUPDATE \"Logs\" SET msg = upper(msg);\n");
        for (String command : List.of("plan", "run")) {
            Result r = PgshiftProcess.run(args(command), db.env());
            assertEquals(3, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("V2__nokey.sql:2: table \"Logs\" has no key a backfill can walk"),
                    r.stderr());
            assertFalse(r.stderr().contains("backup written"), "refused before the backup: " + r.stderr());
        }
        Files.delete(dir.resolve("V2__nokey.sql"));

        String[][] refused = {
            {"-- pgshift:backfill\nALTER TABLE \"Logs\" ADD COLUMN x int;\n", "V2__x.sql:2: 'ALTER TABLE \"Logs\" ADD COLUMN x int' cannot run as a backfill"},
            {"-- pgshift:backfill\nUPDATE \"Logs\" SET msg = 'a';\nUPDATE \"Logs\" SET msg = 'b';\n", "V2__x.sql:3: a backfill file holds one statement"},
            {"-- the directive must come first\n-- pgshift:backfill\nUPDATE \"Logs\" SET msg = 'a';\n", "V2__x.sql:2: '-- pgshift:backfill' counts only on the file's first line"},
            {"-- pgshift:backfill batch=0\nUPDATE \"Logs\" SET msg = 'a';\n", "V2__x.sql:1: bad value '0' for backfill option batch"},
            {"-- pgshift:backfill size=10\nUPDATE \"Logs\" SET msg = 'a';\n", "V2__x.sql:1: 'size=10' is no backfill option"},
            {"-- pgshift:backfill\nINSERT INTO \"Logs\" VALUES ('a', now());\n", "an INSERT that is no INSERT ... SELECT"},
            {"-- pgshift:backfill\nWITH x AS (SELECT 1) UPDATE \"Logs\" SET msg = 'a';\n", "a WITH query cannot be batched"},
        };
        for (String[] c : refused) {
            Files.writeString(dir.resolve("V2__x.sql"), c[0]);
            Result r = PgshiftProcess.run(args("plan"), db.env());
            assertEquals(3, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains(c[1]), c[1] + " in " + r.stderr());
        }
        assertEquals(before, db.catalogSnapshot(), "nothing changed");
        assertEquals(List.of("1"), db.appliedVersions());

        db.execute("alter table \"Logs\" add column id int generated always as identity primary key");
        Files.writeString(dir.resolve("V2__x.sql"), "-- pgshift:backfill\nUPDATE \"Logs\" SET id = id + 1000, msg = 'moved';\n");
        Result moved = PgshiftProcess.run(args("plan"), db.env());
        assertEquals(3, moved.exitCode(), moved.toString());
        assertTrue(moved.stderr().contains("V2__x.sql:2: the statement sets id, a column of the key along which \"Logs\" is batched"), moved.stderr());

        // a key an earlier pending migration adds is checked when the backfill runs, not refused by plan
        Files.writeString(dir.resolve("V2__x.sql"), "CREATE TABLE nokey (n int NOT NULL, v text);\nINSERT INTO nokey SELECT g, NULL FROM generate_series(1, 500) g;\n");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Fixtures.write(dir, "V3__key.sql", "ALTER TABLE nokey ADD PRIMARY KEY (n);\n",
                "V4__fill.sql", "-- pgshift:backfill batch=100\nUPDATE nokey SET v = 'x';\n");
        Result deferred = PgshiftProcess.run(args("plan"), db.env());
        assertEquals(0, deferred.exitCode(), deferred.toString());
        assertTrue(deferred.stdout().contains("which an earlier pending migration creates or changes: its key is checked when it runs"), deferred.stdout());
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        assertEquals("0", db.scalar("select count(*) from nokey where v is null"));
    }

    @Test
    @Tag(OneMajor.TAG) // the progress row is pgshift's, whatever the server
    void progressOfATableSinceDroppedIsNotResumedOnTheNewTable() throws Exception {
        TestDb db = PgServer.get().newDatabase("backfill_dropped");
        dir = Fixtures.write(tmp.resolve("m"), "V1__characters.sql", table(3_000)
                + "ALTER TABLE " + TABLE + " ADD CONSTRAINT stop_at CHECK (\"Id\" < 6000 OR generation_status IS DISTINCT FROM 'COMPLETED');\n");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Fixtures.write(dir, "V2__complete.sql", seedBackfill("batch=500 target=0 pause=0ms"));
        assertEquals(5, PgshiftProcess.run(args("migrate"), db.env()).exitCode(), "the batches up to Id 6000 committed");
        db.execute("drop schema \"Tenant Data\" cascade");
        db.execute(table(3_000)); // the table made again, as a rollback and a rerun of its migration would
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("since dropped"), r.stderr());
        assertEachRowOnce(db, 3_000);
    }

    @Test
    void compositeTextKeysInsertSelectAndDeleteEachTouchEveryRowOnce() throws Exception {
        TestDb db = PgServer.get().newDatabase("backfill_kinds");
        dir = Fixtures.write(tmp.resolve("m"), "V1__t.sql", "CREATE TABLE kv (tenant text, \"Key\" text, v int NOT NULL, PRIMARY KEY (tenant, \"Key\"));\n"
                + "INSERT INTO kv SELECT t, k || g, g FROM generate_series(1, 3000) g, unnest(ARRAY['a''b', 'c\\d', 'é', 'Z']) t, "
                + "unnest(ARRAY['x', 'y''', '\\']) k;\n"
                + "CREATE TABLE kv_archive (tenant text, \"Key\" text, v int, PRIMARY KEY (tenant, \"Key\"));\n",
                "V2__archive.sql", "-- pgshift:backfill batch=700 pause=0ms\nINSERT INTO kv_archive (tenant, \"Key\", v) SELECT s.tenant, s.\"Key\", "
                        + "s.v FROM kv AS s WHERE s.v % 2 = 0 ON CONFLICT (tenant, \"Key\") DO UPDATE SET v = excluded.v WHERE kv_archive.v < 0;\n",
                "V3__purge.sql", "-- pgshift:backfill batch=900 pause=0ms\nDELETE FROM kv WHERE v % 2 = 0;\n",
                // a key column named as pgshift's own queries once named their outputs: their ORDER BY sorted the text
                "V4__k1.sql", "CREATE TABLE k (k1 int PRIMARY KEY, v text);\nINSERT INTO k SELECT g, NULL FROM generate_series(1, 5000) g;\n",
                "V5__k1.sql", "-- pgshift:backfill batch=1000 target=0 pause=0ms\nUPDATE k SET v = 'done' WHERE v IS NULL;\n");
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("18000", db.scalar("select count(*) from kv_archive"));
        assertEquals("0", db.scalar("select count(*) from kv_archive where v % 2 <> 0"));
        assertEquals("18000", db.scalar("select count(*) from kv"));
        assertEquals("0", db.scalar("select count(*) from kv where v % 2 = 0"));
        assertEquals("0", db.scalar("select count(*) from kv k join kv_archive a using (tenant, \"Key\")"));
        assertEquals("0", db.scalar("select count(*) from k where v is null"));
    }

    @Test
    @Tag(OneMajor.TAG) // the progress row, the checksum and repair are pgshift's, whatever the server
    void aFailingBatchKeepsWhatCommittedAnEditIsRefusedAndRepairStartsOver() throws Exception {
        TestDb db = PgServer.get().newDatabase("backfill_fails");
        dir = Fixtures.write(tmp.resolve("m"), "V1__characters.sql", table(9_000)
                + "ALTER TABLE " + TABLE + " ADD CONSTRAINT no_bad_row CHECK (\"Id\" <> 15000 OR generation_status IS NULL);\n",
                "V2__complete.sql", seedBackfill("batch=1000 target=0 pause=0ms"));
        Result failed = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(5, failed.exitCode(), failed.toString());
        assertTrue(failed.stderr().contains("V2__complete.sql:3"), failed.stderr());
        assertTrue(failed.stderr().contains("no_bad_row"), failed.stderr());
        assertTrue(failed.stderr().contains("committed before stay done, and the next run goes on after them"), failed.stderr());
        String done = db.scalar("select count(*) from " + STORED + " where generation_status = 'COMPLETED'");
        assertNotEquals("0", done, "the batches before the failing one stay committed");
        assertEquals(List.of("1"), db.appliedVersions());

        Files.writeString(dir.resolve("V2__complete.sql"), seedBackfill("batch=1000").replace("'COMPLETED'", "'DONE'"));
        Result edited = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(3, edited.exitCode(), edited.toString());
        assertTrue(edited.stderr().contains("the statement changed since an earlier run backfilled " + done + " row(s) of " + STORED), edited.stderr());
        assertTrue(edited.stderr().contains("pgshift repair --rolled-back 2"), edited.stderr());

        // the options may change; the data is fixed: it goes on where it stopped
        Files.writeString(dir.resolve("V2__complete.sql"), seedBackfill("batch=3000 pause=0ms"));
        db.execute("alter table " + STORED + " drop constraint no_bad_row");
        Result resumed = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, resumed.exitCode(), resumed.toString());
        assertEachRowOnce(db, 9_000);

        // a backfill left part-way and then resolved as rolled back runs over the whole table again
        reset(db, "COMPLETED");
        Files.writeString(dir.resolve("V3__again.sql"), seedBackfill("batch=100 target=0 pause=0ms").replace("'COMPLETED'", "'AGAIN'"));
        db.execute("alter table " + STORED + " add constraint stop_at check (\"Id\" < 3000 or generation_status is distinct from 'AGAIN')");
        assertEquals(5, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        db.execute("alter table " + STORED + " drop constraint stop_at");
        reset(db, "AGAIN");
        Result repair = PgshiftProcess.run(args("repair", "--rolled-back", "3", "--reason", "start the backfill over"), db.env());
        assertEquals(0, repair.exitCode(), repair.toString());
        assertTrue(repair.stderr().contains("the progress of its backfill forgotten"), repair.stderr());
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        assertEquals(List.of(List.of("AGAIN", "1", "6000"), List.of("PENDING", "0", "3000")),
                db.query("select generation_status, updates, count(*) from " + STORED + " group by 1, 2 order by 1, 2"));
    }

    @Test
    void aRowLockedByTheApplicationHalvesTheBatchRetriesAndGivesUpWithWhatCommittedKept() throws Exception {
        TestDb db = PgServer.get().newDatabase("backfill_locked");
        dir = Fixtures.write(tmp.resolve("m"), "V1__characters.sql", table(6_000));
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Fixtures.write(dir, "V2__complete.sql", seedBackfill("batch=1000 target=0 pause=0ms lock-timeout=200ms retries=2"));
        try (java.sql.Connection app = db.connect(); java.sql.Statement st = app.createStatement()) {
            app.setAutoCommit(false);
            st.execute("update " + STORED + " set updates = 0 where \"Id\" = 6006"); // row 2002, NULL: in the third batch at any size
            Result r = PgshiftProcess.run(args("migrate"), db.env());
            assertEquals(75, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("batch 3 hit a lock conflict (55P03)"), r.stderr());
            assertTrue(r.stderr().contains("retrying with 500 row(s)"), r.stderr());
            assertTrue(r.stderr().contains("retrying with 250 row(s)"), r.stderr());
            assertTrue(r.stderr().contains("batch 3 gave up after 3 attempts (retries=2)"), r.stderr());
            assertTrue(r.stderr().contains("row(s) in the 2 batch(es) committed before stay done"), r.stderr());
            assertFalse(r.stderr().contains("That migration was rolled back"), "the committed batches are not rolled back: " + r.stderr());
            app.rollback();
        }
        assertEquals(List.of("1"), db.appliedVersions());
        Result next = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, next.exitCode(), next.toString());
        assertEachRowOnce(db, 6_000);
    }

    /** Back to NULL, no update counted (the counting trigger off meanwhile). */
    private static void reset(TestDb db, String status) {
        db.execute("alter table " + STORED + " disable trigger counts");
        db.execute("update " + STORED + " set generation_status = null, updates = 0 where generation_status = '" + status + "'");
        db.execute("alter table " + STORED + " enable trigger counts");
    }

    @Test
    @Tag(OneMajor.TAG) // phases, rehearsal and rollback order are pgshift's, whatever the server
    void aTrailingBackfillWaitsForPhasePostAndItsRollbackScriptRunsInBatchesToo() throws Exception {
        TestDb db = PgServer.get().newDatabase("backfill_phase");
        try (var admin = db.server().admin("postgres")) {
            admin.createStatement().execute("alter role " + db.user() + " createdb"); // the rehearsal's scratch database
        }
        dir = Fixtures.write(tmp.resolve("m"), "V1__characters.sql", table(3_000), "V2__complete.sql", seedBackfill("batch=400 pause=0ms"),
                "V2__complete.rollback.sql", "-- pgshift:backfill batch=250\nUPDATE " + TABLE + " SET generation_status = NULL "
                        + "WHERE generation_status = 'COMPLETED';\n");
        Result pre = PgshiftProcess.run(args("run", "--phase", "pre"), db.env());
        assertEquals(0, pre.exitCode(), pre.toString());
        assertEquals(List.of("1"), db.appliedVersions());
        boolean rehearse = dev.pgshift.testing.PgClients.restoresInto(PgServer.get().major());
        Result post = PgshiftProcess.run(rehearse ? args("run", "--phase", "post", "--rehearse") : args("run", "--phase", "post"), db.env());
        assertEquals(0, post.exitCode(), post.toString());
        assertEquals(List.of("1", "2"), db.appliedVersions());
        assertEachRowOnce(db, 3_000);

        Result back = PgshiftProcess.run(args("rollback", "--to", "1"), db.env());
        assertEquals(0, back.exitCode(), back.toString());
        assertEquals(List.of("1"), db.appliedVersions());
        assertEquals(List.of(List.of("", "2", "2000"), List.of("PENDING", "0", "1000")),
                db.query("select coalesce(generation_status, ''), updates, count(*) from " + STORED + " group by 1, 2 order by 1, 2"));
    }

    @Test
    void aBigUpdateInAnOrdinaryMigrationIsWarnedWithTheBackfillForm() throws Exception {
        TestDb db = PgServer.get().newDatabase("backfill_warn");
        dir = Fixtures.write(tmp.resolve("m"), "V1__t.sql", "CREATE TABLE big (id int PRIMARY KEY, v int);\nCREATE TABLE small (id int PRIMARY KEY, v int);\n"
                + "INSERT INTO big SELECT g, 0 FROM generate_series(1, 150000) g;\nINSERT INTO small VALUES (1, 0);\n");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Files.writeString(dir.resolve("V2__all.sql"), "UPDATE big SET v = 1;\nUPDATE big SET v = 2 WHERE id < 100;\nUPDATE small SET v = 1;\n"
                + "DELETE FROM big WHERE v = 3;\n");
        Result plan = PgshiftProcess.run(args("plan"), db.env());
        assertEquals(0, plan.exitCode(), plan.toString());
        assertTrue(plan.stdout().contains("V2__all.sql:1: UPDATE big SET v = 1"), plan.stdout());
        assertTrue(plan.stdout().contains("V2__all.sql:4: DELETE FROM big WHERE v = 3"), plan.stdout());
        assertTrue(plan.stdout().contains("'-- pgshift:backfill'"), plan.stdout());
        assertFalse(plan.stdout().contains("V2__all.sql:2:"), "a key range is no backfill's case: " + plan.stdout());
        assertFalse(plan.stdout().contains("V2__all.sql:3:"), "a small table is not flagged: " + plan.stdout());
    }
}
