package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
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
        dir = Files.createDirectories(tmp.resolve("m"));
        for (int i = 0; i < nameAndSql.length; i += 2) {
            Files.writeString(dir.resolve(nameAndSql[i]), nameAndSql[i + 1]);
        }
        return dir;
    }

    private List<String> args(String command, String... more) {
        List<String> a = new ArrayList<>(List.of(command, "--bundled=false", "--migrations", dir.toString()));
        a.addAll(List.of(more));
        return a;
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
            while (!run.stderrSoFar().contains("is still building index t_val_idx")) {
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
            interrupt(db, ost, "REINDEX INDEX CONCURRENTLY t_val_idx");
            interrupt(db, ost, "ALTER TABLE m DETACH PARTITION m_2023 CONCURRENTLY");
            blocker.rollback();
        }
        assertEquals("t_val_idx:true,t_val_idx_ccnew:false", indexState(db, "t_val_idx"));
        assertEquals("t", db.scalar("select inhdetachpending from pg_inherits where inhrelid = 'm_2023'::regclass"));

        Files.writeString(dir.resolve("V2__reindex.sql"), "REINDEX INDEX CONCURRENTLY t_val_idx;\n");
        Files.writeString(dir.resolve("V3__detach.sql"), "ALTER TABLE m DETACH PARTITION m_2023 CONCURRENTLY;\n");
        Result r = PgshiftProcess.run(args("migrate"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("dropping t_val_idx_ccnew"), r.stderr());
        assertTrue(r.stderr().contains("finishing it with FINALIZE"), r.stderr());
        assertEquals("t_val_idx:true", indexState(db, "t_val_idx"));
        assertEquals("0", db.scalar("select count(*) from pg_inherits where inhrelid = 'm_2023'::regclass"));
        assertHistoryConsistent(db, List.of("1", "2", "3"));
    }

    /** Starts {@code sql} on another session, lets it park behind the open snapshot, then cancels it. */
    private static void interrupt(TestDb db, Statement st, String sql) throws Exception {
        Thread t = new Thread(() -> {
            try {
                st.execute(sql);
            } catch (Exception e) {
                // cancelled, as intended
            }
        });
        t.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (db.query("select 1 from pg_stat_activity where wait_event_type = 'Lock' and query = '" + sql.replace("'", "''") + "'").isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "never parked: " + sql);
            Thread.sleep(50);
        }
        db.execute("select pg_cancel_backend(pid) from pg_stat_activity where query = '" + sql.replace("'", "''") + "'");
        t.join(10_000);
    }
}
