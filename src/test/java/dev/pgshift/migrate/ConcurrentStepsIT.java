package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Concurrent steps and their failure modes, each asserting the database state afterwards. */
class ConcurrentStepsIT {
    @TempDir
    Path tmp;

    private Path dir;

    private Path migrations(String... nameAndSql) throws Exception {
        dir = Fixtures.write(tmp.resolve("m"), nameAndSql);
        return dir;
    }

    private List<String> args(String command, String... more) {
        return Fixtures.args(command, dir, more);
    }

    private static final String TABLE = "CREATE TABLE t (id int PRIMARY KEY, val int NOT NULL);\n"
            + "INSERT INTO t SELECT g, g % 100 FROM generate_series(1, 20000) g;\n";

    private static String indexState(TestDb db, String name) {
        return db.scalar("select string_agg(c.relname || ':' || i.indisvalid, ',') from pg_index i join pg_class c on c.oid = i.indexrelid "
                + "where c.relname like '" + name + "%'");
    }

    private static void assertHistoryConsistent(TestDb db, List<String> versions) {
        assertEquals(versions, db.appliedVersions());
        assertEquals("0", db.scalar("select count(*) from flyway_schema_history where not success"));
    }

    @Test
    void killedDuringAParkedBuildThenRecoveredByTheNextRun() throws Exception {
        TestDb db = PgServer.get().newDatabase("kill9");
        migrations("V1__t.sql", TABLE);
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Files.writeString(dir.resolve("V2__idx.sql"), "CREATE INDEX CONCURRENTLY t_val_idx ON t (val);\n");
        long start = System.nanoTime();
        try (Connection blocker = db.connect(); Statement st = blocker.createStatement()) {
            blocker.setAutoCommit(false);
            st.execute("insert into t values (-1, 1)"); // an open writer: the build parks behind it
            PgshiftProcess run = PgshiftProcess.start(args("migrate"), db.env());
            db.awaitActive("CREATE INDEX CONCURRENTLY t_val_idx");
            run.signal("KILL");
            run.await(Duration.ofSeconds(10));
            // client_connection_check_interval: the server notices the dead client and stops the build.
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!db.query("select 1 from pg_stat_activity where query like 'CREATE INDEX CONCURRENTLY t_val_idx%'").isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "the server went on building for a dead client");
                Thread.sleep(200);
            }
            assertEquals("t_val_idx:false", indexState(db, "t_val_idx"), "the killed build left an INVALID index");
            blocker.rollback();
        }
        Result next = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, next.exitCode(), next.toString());
        assertTrue(next.stderr().contains("INVALID (a failed or killed build): dropping it concurrently"), next.stderr());
        assertEquals("t_val_idx:true", indexState(db, "t_val_idx"));
        assertHistoryConsistent(db, List.of("1", "2"));
        System.out.printf("kill-and-recover wall time: %.1f s%n", (System.nanoTime() - start) / 1e9);
    }

    @Test
    void validButUnrecordedIndexIsRecordedOrRefusedByDefinition() throws Exception {
        TestDb db = PgServer.get().newDatabase("unrecorded");
        migrations("V1__t.sql", TABLE);
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        // What a build left when its client died and the server finished it anyway.
        db.execute("CREATE INDEX t_val_idx ON public.t USING btree (val)");
        Files.writeString(dir.resolve("V2__idx.sql"), "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"t_val_idx\" ON t(val);\n");
        Result same = PgshiftProcess.start(args("migrate"), db.env()).await(Duration.ofSeconds(30));
        assertEquals(0, same.exitCode(), same.toString());
        assertTrue(same.stderr().contains("already built (VALID) by an earlier run"), same.stderr());
        assertHistoryConsistent(db, List.of("1", "2"));

        db.execute("CREATE INDEX t_id_idx ON t (id)");
        Files.writeString(dir.resolve("V3__idx.sql"), "CREATE INDEX CONCURRENTLY t_id_idx ON t (val, id);\n");
        Result different = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(3, different.exitCode(), different.toString());
        assertTrue(different.stderr().contains("existing: CREATE INDEX t_id_idx ON public.t USING btree (id)"), different.stderr());
        assertTrue(different.stderr().contains("migration: CREATE INDEX CONCURRENTLY t_id_idx ON t (val, id)"), different.stderr());
        assertEquals("t_id_idx:true", indexState(db, "t_id_idx"), "the existing index is left alone");
        assertHistoryConsistent(db, List.of("1", "2"));
    }

    @Test
    void buildStillRunningFromAnotherSessionIsWaitedFor() throws Exception {
        TestDb db = PgServer.get().newDatabase("stillrunning");
        migrations("V1__t.sql", TABLE);
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Files.writeString(dir.resolve("V2__idx.sql"), "CREATE INDEX CONCURRENTLY t_val_idx ON t (val);\n");
        try (Connection blocker = db.connect(); Statement st = blocker.createStatement();
                Connection orphan = db.connect(); Statement ost = orphan.createStatement()) {
            blocker.setAutoCommit(false);
            st.execute("insert into t values (-1, 1)");
            Thread builder = new Thread(() -> {
                try {
                    ost.execute("CREATE INDEX CONCURRENTLY t_val_idx ON t (val)");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            builder.start();
            while (db.query("select 1 from pg_stat_progress_create_index").isEmpty()) {
                Thread.sleep(50);
            }
            PgshiftProcess run = PgshiftProcess.start(args("migrate"), db.env());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!run.stderrSoFar().contains("is still building index public.t_val_idx")) {
                assertTrue(System.nanoTime() < deadline, run.stderrSoFar());
                Thread.sleep(100);
            }
            blocker.rollback();
            builder.join(30_000);
            Result r = run.await(Duration.ofSeconds(60));
            assertEquals(0, r.exitCode(), r.toString());
        }
        assertEquals("t_val_idx:true", indexState(db, "t_val_idx"));
        assertHistoryConsistent(db, List.of("1", "2"));
    }

    @Test
    void uniqueBuildOverDuplicatesFailsCleanlyAndTheNextRunResumes() throws Exception {
        TestDb db = PgServer.get().newDatabase("dupes");
        migrations("V1__t.sql", TABLE, "V2__uniq.sql", "CREATE UNIQUE INDEX CONCURRENTLY t_val_key ON t (val);\n");
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(5, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("V2__uniq.sql:1"), r.stderr());
        assertTrue(r.stderr().contains("Key (val)=("), "names the duplicated key: " + r.stderr());
        assertEquals(null, indexState(db, "t_val_key"), "no INVALID index left: " + r);
        assertEquals(List.of("1"), db.appliedVersions());

        db.execute("UPDATE t SET val = id");
        Result again = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, again.exitCode(), again.toString());
        assertEquals("t_val_key:true", indexState(db, "t_val_key"));
        assertHistoryConsistent(db, List.of("1", "2"));
    }

    @Test
    void ddlBehindALockGivesUpWithinLockTimeoutRetriesAndSucceeds() throws Exception {
        TestDb db = PgServer.get().newDatabase("locktimeout");
        migrations("V1__t.sql", TABLE);
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Files.writeString(dir.resolve("V2__col.sql"), "ALTER TABLE t ADD COLUMN note text;\n");
        PgshiftProcess run;
        int blockerPid;
        try (Connection blocker = db.connect(); Statement st = blocker.createStatement()) {
            blocker.setAutoCommit(false);
            var rs = st.executeQuery("select pg_backend_pid(), count(*) from t");
            rs.next();
            blockerPid = rs.getInt(1);
            run = PgshiftProcess.start(args("migrate", "--lock-timeout", "1s", "--lock-retries", "20"), db.env());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!run.stderrSoFar().contains("(attempt 2 of 21)")) {
                assertTrue(System.nanoTime() < deadline, run.stderrSoFar());
                Thread.sleep(100);
            }
            blocker.commit();
        }
        Result r = run.await(Duration.ofSeconds(60));
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("blocked by pid " + blockerPid), r.stderr());
        Matcher m = Pattern.compile("lock timeout after ([0-9.]+) s").matcher(r.stderr());
        int attempts = 0;
        List<Double> waits = new ArrayList<>();
        while (m.find()) {
            attempts++;
            double seconds = Double.parseDouble(m.group(1));
            waits.add(seconds);
            assertTrue(seconds < 1.0 + 0.75, "an attempt waited " + seconds + " s for a 1 s lock_timeout");
        }
        assertTrue(attempts >= 2, r.stderr());
        System.out.println("lock_timeout 1 s, attempts gave up after (s): " + waits);
        assertEquals("1", db.scalar("select count(*) from information_schema.columns where table_name = 't' and column_name = 'note'"));
        assertHistoryConsistent(db, List.of("1", "2"));
    }

    @Test
    void blockerThatNeverEndsExits75WithNothingHalfApplied() throws Exception {
        TestDb db = PgServer.get().newDatabase("lockforever");
        migrations("V1__t.sql", TABLE);
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Files.writeString(dir.resolve("V2__two.sql"), "CREATE TABLE side (id int);\nALTER TABLE t ADD COLUMN note text;\n");
        try (Connection blocker = db.connect(); Statement st = blocker.createStatement()) {
            blocker.setAutoCommit(false);
            st.executeQuery("select count(*) from t");
            Result r = PgshiftProcess.run(args("migrate", "--lock-timeout", "500ms", "--lock-retries", "2"), db.env());
            assertEquals(75, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("retries exhausted after 3 attempts"), r.stderr());
            blocker.rollback();
        }
        assertEquals("0", db.scalar("select count(*) from pg_tables where tablename = 'side'"), "its transaction was rolled back");
        assertHistoryConsistent(db, List.of("1"));
    }

    @Test
    void unnamedConcurrentIndexIsRefusedAtPlanTime() throws Exception {
        TestDb db = PgServer.get().newDatabase("unnamed");
        migrations("V1__t.sql", TABLE, "V2__idx.sql", "-- no name\nCREATE INDEX CONCURRENTLY ON t (val);\n");
        String before = db.catalogSnapshot();
        Result plan = PgshiftProcess.run(args("plan"), db.env());
        assertEquals(3, plan.exitCode(), plan.toString());
        assertTrue(plan.stderr().contains("V2__idx.sql:2"), plan.stderr());
        Result run = PgshiftProcess.run(args("run"), db.env());
        assertEquals(3, run.exitCode(), run.toString());
        assertEquals(before, db.catalogSnapshot(), "nothing ran, not even V1");
    }

    @Test
    void phasePreThenPostEndsWhereAllEnds() throws Exception {
        migrations("V1__t.sql", TABLE, "V2__idx.sql", "CREATE INDEX CONCURRENTLY t_val_idx ON t (val);\n",
                "V3__col.sql", "ALTER TABLE t ADD COLUMN note text;\n",
                "V4__idx.sql", "CREATE INDEX CONCURRENTLY t_note_idx ON t (note);\n",
                "V5__idx.sql", "SET maintenance_work_mem = '64MB';\nCREATE INDEX CONCURRENTLY t_both_idx ON t (val, note);\n");
        TestDb all = PgServer.get().newDatabase("phaseall");
        assertEquals(0, PgshiftProcess.run(args("migrate", "--phase", "all"), all.env()).exitCode());

        TestDb split = PgServer.get().newDatabase("phasesplit");
        Result planned = PgshiftProcess.run(args("plan"), split.env());
        assertTrue(planned.stdout().matches("(?s).*pending +pre +3 .*pending +post +4 .*pending +post +5 .*"), planned.stdout());
        Result post = PgshiftProcess.run(args("migrate", "--phase", "post"), split.env());
        assertEquals(3, post.exitCode(), "post before pre is refused: " + post);
        Result pre = PgshiftProcess.run(args("migrate", "--phase", "pre"), split.env());
        assertEquals(0, pre.exitCode(), pre.toString());
        assertEquals(List.of("1", "2", "3"), split.appliedVersions());
        Result post2 = PgshiftProcess.run(args("migrate", "--phase", "post"), split.env());
        assertEquals(0, post2.exitCode(), post2.toString());
        assertEquals(all.appliedVersions(), split.appliedVersions());
        assertEquals(all.catalogSnapshot(), split.catalogSnapshot());
    }

    @Test
    void interruptedReindexAndDetachAreFinishedByTheNextRun() throws Exception {
        TestDb db = PgServer.get().newDatabase("leftovers");
        migrations("V1__t.sql", TABLE + "CREATE INDEX t_val_idx ON t (val);\n"
                + "CREATE TABLE m (id int, at date) PARTITION BY RANGE (at);\n"
                + "CREATE TABLE m_2023 PARTITION OF m FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');\n"
                + "CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n");
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        try (Connection blocker = db.connect(); Statement st = blocker.createStatement();
                Connection other = db.connect(); Statement ost = other.createStatement()) {
            blocker.setAutoCommit(false);
            st.executeQuery("select count(*) from t, m").close(); // an old snapshot both commands wait for
            db.interruptWhenParked(ost, "REINDEX INDEX CONCURRENTLY t_val_idx");
            db.interruptWhenParked(ost, "ALTER TABLE m DETACH PARTITION m_2023 CONCURRENTLY");
            blocker.rollback();
        }
        assertEquals("t_val_idx:true,t_val_idx_ccnew:false", indexState(db, "t_val_idx"));
        assertEquals("t", db.scalar("select inhdetachpending from pg_inherits where inhrelid = 'm_2023'::regclass"));

        Files.writeString(dir.resolve("V2__reindex.sql"), "REINDEX INDEX CONCURRENTLY t_val_idx;\n");
        Files.writeString(dir.resolve("V3__detach.sql"), "ALTER TABLE m DETACH PARTITION m_2023 CONCURRENTLY;\n");
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("dropping public.t_val_idx_ccnew"), r.stderr());
        assertTrue(r.stderr().contains("finishing it with FINALIZE"), r.stderr());
        assertEquals("t_val_idx:true", indexState(db, "t_val_idx"));
        assertEquals("0", db.scalar("select count(*) from pg_inherits where inhrelid = 'm_2023'::regclass"));
        assertHistoryConsistent(db, List.of("1", "2", "3"));
    }

    /** Objects in a schema the search_path does not reach, as a real project has them (issue 24's reproductions). */
    private static final String AUDIT = "CREATE SCHEMA audit;\nCREATE TABLE audit.events (id int PRIMARY KEY, created_at timestamptz NOT NULL);\n"
            + "INSERT INTO audit.events SELECT g, now() FROM generate_series(1, 1000) g;\n"
            + "CREATE INDEX events_old_idx ON audit.events (id, created_at);\n"
            // the same table name in public, which is on the search_path (the matrix has same-named indexes elsewhere)
            + "CREATE TABLE public.events (id int PRIMARY KEY, created_at timestamptz NOT NULL);\n"
            + "CREATE SCHEMA archive;\nCREATE TABLE archive.m (id int, at date) PARTITION BY RANGE (at);\n"
            + "CREATE TABLE archive.m_2031 PARTITION OF archive.m FOR VALUES FROM ('2031-01-01') TO ('2032-01-01');\n";

    @Test
    void aConcurrentIndexOnATableInASchemaOffTheSearchPathIsBuiltThere() throws Exception {
        TestDb db = PgServer.get().newDatabase("auditidx");
        migrations("V1__audit.sql", AUDIT, "V2__idx.sql", "CREATE INDEX CONCURRENTLY events_created_idx ON audit.events (created_at);\n");
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, r.exitCode(), r.toString()); // was exit 5, "ended INVALID; it was dropped", the index VALID and unrecorded
        assertEquals("true", db.scalar("select indisvalid::text from pg_index where indexrelid = 'audit.events_created_idx'::regclass"));
        assertHistoryConsistent(db, List.of("1", "2"));
        Result again = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, again.exitCode(), again.toString());
    }

    @Test
    void dropIndexConcurrentlyOfAQualifiedIndexDropsThatIndexOnly() throws Exception {
        TestDb db = PgServer.get().newDatabase("auditdrop");
        migrations("V1__audit.sql", AUDIT, "V2__drop.sql", "DROP INDEX CONCURRENTLY audit.events_old_idx;\n");
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        // was: exit 0, "already gone ... skipped", recorded as applied, and the index still there
        assertEquals(null, db.scalar("select to_regclass('audit.events_old_idx')"), r.stderr());
        assertHistoryConsistent(db, List.of("1", "2"));
    }

    @Test
    void detachConcurrentlyOfAQualifiedPartitionDetachesIt() throws Exception {
        TestDb db = PgServer.get().newDatabase("auditdetach");
        migrations("V1__audit.sql", AUDIT, "V2__detach.sql", "ALTER TABLE archive.m DETACH PARTITION archive.m_2031 CONCURRENTLY;\n");
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, r.exitCode(), r.toString()); // was exit 5, "there is no table m_2031 to detach" while it was attached
        assertEquals("0", db.scalar("select count(*) from pg_inherits where inhrelid = 'archive.m_2031'::regclass"));
        assertHistoryConsistent(db, List.of("1", "2"));
    }

    /** trigger.dev's history: a 64-character index name that PostgreSQL truncates to 63 with a NOTICE and builds VALID. */
    @Test
    void aConcurrentIndexWhoseNameIsTruncatedIsBuiltRecordedAndNotedByThePlan() throws Exception {
        TestDb db = PgServer.get().newDatabase("truncated");
        String name = "BackgroundWorkerTask_runtimeEnvironmentId_slug_triggerSource_idx";
        assertEquals(64, name.length());
        migrations("V1__t.sql", "CREATE TABLE \"BackgroundWorkerTask\" (id int PRIMARY KEY, \"runtimeEnvironmentId\" text, slug text, "
                + "\"triggerSource\" text);\n",
                "V2__idx.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"" + name + "\" ON \"BackgroundWorkerTask\" (\"runtimeEnvironmentId\", slug, "
                        + "\"triggerSource\");\n");
        Result plan = PgshiftProcess.run(args("plan"), db.env());
        assertEquals(0, plan.exitCode(), plan.toString());
        assertTrue(plan.all().contains("is longer than 63 bytes: PostgreSQL cuts it to \"" + name.substring(0, 63) + "\""), plan.all());
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, r.exitCode(), r.toString()); // was exit 5 "ended INVALID; it was dropped" (no DROP was sent), forever
        assertEquals("true", db.scalar("select indisvalid::text from pg_index where indexrelid = to_regclass('\"" + name + "\"')"));
        assertHistoryConsistent(db, List.of("1", "2"));
        Result again = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, again.exitCode(), again.toString());
    }

    /**
     * The build's session ended by pg_terminate_backend while the build waits behind an open writer: 57P01 is exit 75
     * with file:line (was exit 5, "This connection has been closed": the cleanup on the dead session replaced the
     * first failure), and the next run drops the INVALID index the build left and builds it.
     */
    @Test
    void aTerminatedConcurrentBuildExits75WithItsFileAndLineAndTheNextRunCompletes() throws Exception {
        TestDb db = PgServer.get().newDatabase("terminatedbuild");
        migrations("V1__t.sql", TABLE);
        assertEquals(0, PgshiftProcess.run(args("migrate"), db.env()).exitCode());
        Files.writeString(dir.resolve("V2__idx.sql"), "-- the index\nCREATE INDEX CONCURRENTLY t_val_idx ON t (val);\n");
        Result r;
        try (Connection blocker = db.connect(); Statement st = blocker.createStatement()) {
            blocker.setAutoCommit(false);
            st.execute("insert into t values (-1, 1)");
            PgshiftProcess run = PgshiftProcess.start(args("migrate"), db.env());
            db.awaitActive("CREATE INDEX CONCURRENTLY t_val_idx");
            db.execute("select pg_terminate_backend(pid) from pg_stat_activity where query like 'CREATE INDEX CONCURRENTLY t_val_idx%' "
                    + "and pid <> pg_backend_pid()");
            r = run.await(Duration.ofSeconds(60));
            blocker.rollback();
        }
        assertEquals(75, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("V2__idx.sql:2"), r.stderr());
        assertTrue(r.stderr().contains("57P01"), r.stderr());
        assertTrue(!r.all().contains("This connection has been closed"), r.all());
        Result next = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, next.exitCode(), next.toString());
        assertEquals("t_val_idx:true", indexState(db, "t_val_idx"));
        assertHistoryConsistent(db, List.of("1", "2"));
    }
}
