package dev.pgshift.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.OneMajor;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults a run meets in production, each with the real thing: SIGKILL and SIGTERM sent to the packaged pgshift, sessions
 * ended by the server, locks held by other sessions, a database that ends idle sessions. Each ends with an exit code
 * Kubernetes can act on, and the next run completes with no manual step. What the server's major decides (a killed
 * client's statement, terminated sessions, restarts, idle_session_timeout) runs on 14, 15 and 18; the rest, pgshift's and
 * its children's own handling, is tagged {@link OneMajor#TAG} and runs on 15.
 */
class FaultsIT {
    @TempDir
    Path tmp;

    private Path backups() {
        return tmp.resolve("backups");
    }

    private List<String> args(Path dir, String... more) {
        List<String> a = Fixtures.args(more[0], dir, java.util.Arrays.copyOfRange(more, 1, more.length));
        a.addAll(List.of("--backup-dir", backups().toString()));
        return a;
    }

    private static Map<String, String> noBackup(TestDb db) {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("PGSHIFT_BACKUP", "never");
        return env;
    }

    private Path migrations(String... nameThenSql) throws Exception {
        return Fixtures.write(tmp.resolve("m"), nameThenSql);
    }

    /** A session of the test's own, named as an operator's tool (or an earlier pgshift run) would be. */
    private static Connection session(TestDb db, String applicationName) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", db.user());
        p.setProperty("password", db.password());
        p.setProperty("sslmode", "disable");
        p.setProperty("ApplicationName", applicationName);
        return java.sql.DriverManager.getConnection(db.jdbcUrl(), p);
    }

    private static void awaitGone(TestDb db, String where, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!db.query("select pid from pg_stat_activity where " + where + " and pid <> pg_backend_pid()").isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still on the server after " + within + ": " + db.query("select pid, application_name, state, query "
                        + "from pg_stat_activity where " + where + " and pid <> pg_backend_pid()"));
            }
            Thread.sleep(100);
        }
    }

    private void awaitLog(PgshiftProcess run, String fragment) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!run.stderrSoFar().contains(fragment)) {
            if (System.nanoTime() > deadline || !run.process().isAlive()) {
                throw new AssertionError("never logged '" + fragment + "':\n" + run.stderrSoFar());
            }
            Thread.sleep(50);
        }
    }

    @Test
    void aKilledRunsStatementEndsWithinSecondsAndTheNextRunCompletes() throws Exception {
        TestDb db = PgServer.get().newDatabase("killed");
        Path dir = migrations("V1__held.sql", "CREATE TABLE held (id int);\n",
                "V2__long.sql", "INSERT INTO held VALUES (1);\nSELECT pg_sleep(60);\n");
        PgshiftProcess run = PgshiftProcess.start(args(dir, "run"), noBackup(db));
        db.awaitActive("pg_sleep(60)");
        run.signal("KILL");
        run.await(Duration.ofSeconds(10));
        long killed = System.nanoTime();

        // The server notices the vanished client and ends the statement, releasing its locks: the application reads again.
        awaitGone(db, "query like '%pg_sleep(60)%'", Duration.ofSeconds(10));
        double seconds = (System.nanoTime() - killed) / 1e9;
        assertTrue(seconds < 8, "the dead run's statement ran on for " + seconds + " s");
        db.execute("set lock_timeout = '2s'; select count(*) from held");

        Files.writeString(dir.resolve("V2__long.sql"), "INSERT INTO held VALUES (1);\n");
        Result again = PgshiftProcess.run(args(dir, "run"), noBackup(db));
        assertEquals(0, again.exitCode(), again.toString());
        assertEquals(List.of("1", "2"), db.appliedVersions());
    }

    @Test
    @Tag(OneMajor.TAG)
    void aBusySessionOfAnEarlierRunIsNamedAndWaitedForThenExit75() throws Exception {
        TestDb db = PgServer.get().newDatabase("leftover");
        Path dir = migrations("V1__t.sql", "CREATE TABLE t (id int);\n");
        try (Connection leftover = session(db, "pgshift/deadbeef"); Statement st = leftover.createStatement()) {
            CompletableFuture<Void> sleeping = CompletableFuture.runAsync(() -> {
                try {
                    st.execute("select pg_sleep(30)");
                } catch (Exception e) {
                    // cancelled at the end of the test
                }
            });
            while (db.query("select 1 from pg_stat_activity where application_name = 'pgshift/deadbeef' and state = 'active'").isEmpty()) {
                Thread.sleep(50);
            }
            String pid = db.scalar("select pid from pg_stat_activity where application_name = 'pgshift/deadbeef'");
            Result r = PgshiftProcess.run(args(dir, "run", "--lock-wait", "2s"), noBackup(db));
            assertEquals(75, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("sessions of an earlier pgshift run are still busy on this database"), r.stderr());
            assertTrue(r.stderr().contains("pid " + pid + " (user '"), r.stderr());
            assertTrue(r.stderr().contains("application_name 'pgshift/deadbeef', state 'active'"), r.stderr());
            assertFalse(r.all().contains("pg_sleep"), "another session's query text reached pgshift's output: " + r.all());
            assertEquals(List.of(), db.appliedVersions());
            st.cancel();
            sleeping.join();
        }
        Result again = PgshiftProcess.run(args(dir, "run"), noBackup(db));
        assertEquals(0, again.exitCode(), again.toString());
    }

    @Test
    @Tag(OneMajor.TAG)
    void flywaysHistoryLockHeldByAnotherToolEndsIn75WithinTheLockWait() throws Exception {
        TestDb db = PgServer.get().newDatabase("flywaylock");
        Path dir = migrations("V1__t.sql", "CREATE TABLE t (id int);\n");
        long flywayKey = 77431708279161L + "\"public\".\"flyway_schema_history\"".hashCode();
        try (Connection other = session(db, "other-migration-tool"); Statement st = other.createStatement()) {
            st.execute("select pg_advisory_lock(" + flywayKey + ")");
            long start = System.nanoTime();
            Result r = PgshiftProcess.run(args(dir, "run", "--lock-wait", "3s"), noBackup(db));
            double seconds = (System.nanoTime() - start) / 1e9;
            assertEquals(75, r.exitCode(), r.toString());
            assertTrue(seconds < 30, "took " + seconds + " s");
            assertTrue(r.stderr().contains("other-migration-tool"), r.stderr());
            assertFalse(r.all().contains("Number of retries exceeded"), r.all());
        }
        assertEquals(List.of(), db.appliedVersions());
    }

    @Test
    void aTerminatedMigrationSessionExits75ListingWhatWasAppliedAndTheNextRunCompletes() throws Exception {
        TestDb db = PgServer.get().newDatabase("terminated");
        Path dir = migrations("V1__a.sql", "CREATE TABLE a (id int);\n", "V2__b.sql", "CREATE TABLE b (id int);\n",
                "V3__c.sql", "CREATE TABLE c (id int);\n", "V4__d.sql", "CREATE TABLE d (id int);\n",
                "V5__slow.sql", "CREATE TABLE e (id int);\nSELECT pg_sleep(60);\n");
        PgshiftProcess run = PgshiftProcess.start(args(dir, "run"), noBackup(db));
        db.awaitActive("pg_sleep(60)");
        db.execute("select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()");
        Result r = run.await(Duration.ofSeconds(60));
        assertEquals(75, r.exitCode(), r.toString());
        assertTrue(r.stdout().contains("applied   4 migration(s)"), r.stdout());
        assertEquals(List.of("1", "2", "3", "4"), db.appliedVersions());

        Files.writeString(dir.resolve("V5__slow.sql"), "CREATE TABLE e (id int);\n");
        Result again = PgshiftProcess.run(args(dir, "run"), noBackup(db));
        assertEquals(0, again.exitCode(), again.toString());
        assertEquals(List.of("1", "2", "3", "4", "5"), db.appliedVersions());
    }

    @Test
    void aServerRestartMidRunExits75ListingWhatWasAppliedAndTheNextRunCompletes() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path data = tmp.resolve("data");
        PgServer server = PgServer.start(port, data);
        TestDb db = server.newDatabase("restart");
        Path dir = migrations("V1__a.sql", "CREATE TABLE a (id int);\n", "V2__b.sql", "CREATE TABLE b (id int);\n",
                "V3__slow.sql", "CREATE TABLE c (id int);\nSELECT pg_sleep(60);\n");
        PgshiftProcess run = PgshiftProcess.start(args(dir, "run"), noBackup(db));
        try {
            db.awaitActive("pg_sleep(60)");
            server.stop(); // a fast shutdown: the server ends every session (57P01); then it starts again (a restart)
            server = PgServer.start(port, data);
            Result r = run.await(Duration.ofSeconds(90));
            assertEquals(75, r.exitCode(), r.toString());
            assertTrue(r.stdout().contains("applied   2 migration(s)"), r.stdout());
            assertEquals(List.of("1", "2"), db.appliedVersions());
            assertEquals(List.of(List.of("run", "75")), db.query("select command, exit_code from pgshift.run_history where exit_code <> 0"),
                    "the failed run recorded itself once the server was back");
            Files.writeString(dir.resolve("V3__slow.sql"), "CREATE TABLE c (id int);\n");
            Result again = PgshiftProcess.run(args(dir, "run"), noBackup(db));
            assertEquals(0, again.exitCode(), again.toString());
            assertEquals(List.of("1", "2", "3"), db.appliedVersions());
        } finally {
            server.stop();
        }
    }

    /**
     * A run killed between Flyway's creating the history table and pgshift's removing Flyway's baseline marker left the
     * marker alone in the history; the next run applied everything and kept it: 21 rows for 20 migrations (ChaosSoakIT,
     * trial 9: a kill 377 ms into the backup). It is removed now.
     */
    @Test
    @Tag(OneMajor.TAG)
    void aBaselineMarkerAKilledRunLeftAloneInTheHistoryIsRemoved() throws Exception {
        TestDb db = PgServer.get().newDatabase("marker");
        Path dir = migrations("V1__a.sql", "CREATE TABLE a (id int);\n");
        assertEquals(0, PgshiftProcess.run(args(dir, "run"), noBackup(db)).exitCode());
        db.execute("drop table a; delete from flyway_schema_history; insert into flyway_schema_history (installed_rank, version, "
                + "description, type, script, checksum, installed_by, execution_time, success) values (1, '0', '<< Flyway Baseline >>', "
                + "'BASELINE', '<< Flyway Baseline >>', null, current_user, 0, true)");
        Result r = PgshiftProcess.run(args(dir, "run"), noBackup(db));
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(List.of(List.of("1", "SQL")), db.query("select version, type from flyway_schema_history order by installed_rank"));
    }

    /** A server restart while a concurrent build waits behind an open writer: exit 75 with file:line, then the next run builds it. */
    @Test
    void aServerRestartDuringAConcurrentBuildExits75AndTheNextRunBuildsTheIndex() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path data = tmp.resolve("data");
        PgServer server = PgServer.start(port, data);
        TestDb db = server.newDatabase("restartbuild");
        Path dir = migrations("V1__t.sql", "CREATE SCHEMA audit;\nCREATE TABLE audit.t (id int PRIMARY KEY, val int);\n"
                + "INSERT INTO audit.t SELECT g, g FROM generate_series(1, 1000) g;\n");
        try {
            Result first = PgshiftProcess.run(args(dir, "run"), noBackup(db));
            assertEquals(0, first.exitCode(), first.toString());
            Files.writeString(dir.resolve("V2__idx.sql"), "CREATE INDEX CONCURRENTLY t_val_idx ON audit.t (val);\n");
            Result r;
            try (java.sql.Connection blocker = db.connect(); java.sql.Statement st = blocker.createStatement()) {
                blocker.setAutoCommit(false);
                st.execute("insert into audit.t values (-1, 1)");
                PgshiftProcess run = PgshiftProcess.start(args(dir, "run"), noBackup(db));
                db.awaitActive("CREATE INDEX CONCURRENTLY t_val_idx");
                server.stop(); // fast shutdown: 57P01 for the build's session; then it starts again (a restart)
                server = PgServer.start(port, data);
                r = run.await(Duration.ofSeconds(90));
            }
            assertEquals(75, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("V2__idx.sql:1"), r.stderr());
            assertEquals(List.of(List.of("run", "75")), db.query("select command, exit_code from pgshift.run_history where exit_code <> 0"),
                    "the failed run recorded itself once the server was back");
            Result again = PgshiftProcess.run(args(dir, "run"), noBackup(db));
            assertEquals(0, again.exitCode(), again.toString());
            assertEquals("true", db.scalar("select indisvalid::text from pg_index where indexrelid = 'audit.t_val_idx'::regclass"));
            assertEquals(List.of("1", "2"), db.appliedVersions());
        } finally {
            server.stop();
        }
    }

    @Test
    @Tag(OneMajor.TAG)
    void aMissingPasswordIsExit3AtOnceNamingWhereItLooked() {
        TestDb db = PgServer.get().newDatabase("nopassword");
        Map<String, String> env = noBackup(db);
        env.remove("PGPASSWORD");
        env.put("HOME", tmp.toString()); // no ~/.pgpass of the machine's
        long start = System.nanoTime();
        Result r = PgshiftProcess.run(List.of("run", "--connect-timeout", "60s"), env);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(seconds < 20, "took " + seconds + " s");
        assertTrue(r.stderr().contains("PGPASSWORD") && r.stderr().contains("--password-file"), r.stderr());
    }

    /** Applies V1 (table t), then adds V2, which needs t's lock. */
    private Path tableThenAlter(TestDb db) throws Exception {
        Path dir = migrations("V1__t.sql", "CREATE TABLE t (id int);\n");
        Result first = PgshiftProcess.run(args(dir, "run"), noBackup(db));
        assertEquals(0, first.exitCode(), first.toString());
        Files.writeString(dir.resolve("V2__alter.sql"), "ALTER TABLE t ADD COLUMN x int;\n");
        return dir;
    }

    /**
     * A Flyway CLI migrating the schema holds its lock on the history: pgshift waits for it, then looks at the history
     * again, so what Flyway applied meanwhile runs once, not twice (a hostile-user finding: it ran again, exit 0, with
     * two history rows for the version).
     */
    @Test
    @Tag(OneMajor.TAG)
    void whatAFlywayRunAppliesWhileThisRunWaitsForItsLockIsNotAppliedAgain() throws Exception {
        TestDb db = PgServer.get().newDatabase("flywayrace");
        Path dir = migrations("V1__tbl.sql", "CREATE TABLE counter (a int);\n", "V2__slow_insert.sql",
                "SELECT pg_sleep(6);\nINSERT INTO counter VALUES (2);\n", "V3__x.sql", "INSERT INTO counter VALUES (3);\n");
        var flyway = org.flywaydb.core.Flyway.configure().dataSource(db.jdbcUrl(), db.user(), db.password())
                .locations("filesystem:" + dir);
        flyway.getPluginRegister().getPlugin(org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension.class)
                .setTransactionalLock(false);
        flyway.target("1").load().migrate();
        CompletableFuture<Void> other = CompletableFuture.runAsync(() -> flyway.target("2").load().migrate());
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (db.query("select 1 from pg_stat_activity where query like '%pg_sleep(6)%' and state = 'active' "
                + "and pid <> pg_backend_pid()").isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "Flyway never started V2");
            Thread.sleep(20);
        }
        Result r = PgshiftProcess.run(args(dir, "run", "--lock-wait", "60s"), noBackup(db));
        other.join();
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(List.of(List.of("2"), List.of("3")), db.query("select a from counter order by a"));
        assertEquals(List.of("1", "2", "3"), db.appliedVersions());
        assertEquals("3", db.scalar("select count(*) from flyway_schema_history"));
        assertTrue(r.stdout().contains("applied   1 migration(s)"), r.stdout());
    }

    /**
     * A file with its own transactions that SIGTERM stops after one of them committed records how far it got, also when
     * the stop lands between two statements: the next run resumes there, without a manual step and without running
     * what committed again (it stopped with exit 3 and a repair to do).
     */
    @Test
    @Tag(OneMajor.TAG)
    void sigtermAfterACommitOfAFileWithItsOwnTransactionsResumesOnTheNextRun() throws Exception {
        TestDb db = PgServer.get().newDatabase("ownstop");
        Path dir = ownTransactions();
        Result r = signalledAfterFirstCommit(db, dir, "TERM");
        assertEquals(75, r.exitCode(), r.toString());
        assertEquals("f", db.scalar("select success from flyway_schema_history where version = '1'"), r.toString());
        Result again = PgshiftProcess.run(args(dir, "run"), noBackup(db));
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.stderr().contains("it resumes after them"), again.stderr());
        assertEquals(List.of(List.of("1", "true")), db.query("select version, success::text from flyway_schema_history"));
        assertEquals("t", db.scalar("select to_regclass('public.last_part') is not null"));
    }

    /**
     * The same after SIGKILL (the OOM killer, a lost node), which no handler sees: each commit of the file carries the
     * record of how far it got, so the killed run leaves it and the next run resumes after the last commit: first_part
     * is not created twice ("relation already exists"), second_part's data change is not doubled, the file's one row
     * records its success.
     */
    @Test
    @Tag(OneMajor.TAG)
    void sigkillInTheSecondBlockOfAFileWithItsOwnTransactionsResumesWithEachBlockOnce() throws Exception {
        TestDb db = PgServer.get().newDatabase("ownkill");
        Path dir = ownTransactions();
        signalledAfterFirstCommit(db, dir, "KILL");
        assertEquals("false", db.scalar("select string_agg(success::text, ',') from flyway_schema_history where version = '1'"));
        // The file left part-way resumes; the database is not at its version yet (plan said "at version 1").
        Result plan = PgshiftProcess.run(Fixtures.args("plan", dir, "--json"), noBackup(db));
        assertEquals(0, plan.exitCode(), plan.toString());
        com.fasterxml.jackson.databind.JsonNode p = new com.fasterxml.jackson.databind.ObjectMapper().readTree(plan.stdout());
        assertTrue(p.get("currentVersion") == null || p.get("currentVersion").isNull(), plan.stdout());
        assertEquals("resume", p.get("migrations").get(0).get("state").asText(), plan.stdout());
        Result again = PgshiftProcess.run(args(dir, "run"), noBackup(db));
        assertEquals(0, again.exitCode(), again.toString());
        assertEquals(List.of(List.of("1", "true")), db.query("select version, success::text from flyway_schema_history"));
        assertEquals("t", db.scalar("select to_regclass('public.last_part') is not null"));
        assertEquals("1", db.scalar("select count(*) from second_part"), "the second block's insert ran once");
    }

    /**
     * A lock timeout in the second block of a file with its own transactions (an idle-in-transaction reader of its
     * table): that block is retried like any migration after a lock timeout, after the first block's commit, and the
     * run succeeds (it exited 5, and the next run 3).
     */
    @Test
    @Tag(OneMajor.TAG)
    void aLockTimeoutInTheSecondBlockIsRetriedAfterTheFirstBlocksCommit() throws Exception {
        TestDb db = PgServer.get().newDatabase("ownlock");
        Path dir = migrations("V1__hot.sql", "CREATE TABLE hot (id int);\n");
        assertEquals(0, PgshiftProcess.run(args(dir, "run"), noBackup(db)).exitCode());
        Files.writeString(dir.resolve("V2__two_blocks.sql"), "BEGIN;\nCREATE TABLE first_block (id int);\nINSERT INTO first_block VALUES (1);\n"
                + "COMMIT;\nBEGIN;\nALTER TABLE hot ADD COLUMN note text;\nCOMMIT;\n");
        try (Connection reader = session(db, "reader-app"); Statement st = reader.createStatement()) {
            reader.setAutoCommit(false);
            st.execute("select * from hot"); // holds ACCESS SHARE until it ends its transaction
            PgshiftProcess run = PgshiftProcess.start(args(dir, "run", "--lock-timeout", "1s", "--lock-retries", "5"), noBackup(db));
            awaitLog(run, "lock timeout after");
            reader.rollback();
            Result r = run.await(Duration.ofSeconds(60));
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.stderr().matches("(?s).*lock timeout after 1\\.[0-9] s \\(attempt 1.*"), "the time the statement waited: " + r.stderr());
        }
        assertEquals(List.of("1", "2"), db.appliedVersions());
        assertEquals("1", db.scalar("select count(*) from first_block"), "the first block ran once");
        assertEquals("1", db.scalar("select count(*) from information_schema.columns where table_name = 'hot' and column_name = 'note'"));
    }

    /**
     * A file with its own transactions: a block that makes first_part and second_part, 5,000 statements outside blocks,
     * a block that inserts into second_part among 20,000 statements, then last_part.
     */
    private Path ownTransactions() throws Exception {
        return migrations("V1__own.sql", "BEGIN;\nCREATE TABLE first_part (id int);\nCREATE TABLE second_part (id int);\nCOMMIT;\n"
                + "SELECT 1;\n".repeat(5_000) + "BEGIN;\nINSERT INTO second_part VALUES (1);\n" + "SELECT 1;\n".repeat(20_000) + "COMMIT;\n"
                + "CREATE TABLE last_part (id int);\n");
    }

    /** pgshift run on {@code dir}, sent {@code signal} once first_part has committed. */
    private Result signalledAfterFirstCommit(TestDb db, Path dir, String signal) throws Exception {
        PgshiftProcess run = PgshiftProcess.start(args(dir, "run"), noBackup(db));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (db.scalar("select to_regclass('public.first_part') is not null").equals("f")) {
            assertTrue(System.nanoTime() < deadline, "the first transaction never committed: " + run.stderrSoFar());
            Thread.sleep(20);
        }
        run.signal(signal);
        return run.await(Duration.ofSeconds(30));
    }

    @Test
    @Tag(OneMajor.TAG)
    void sigtermDuringTheLockRetryBackoffStopsAtOnceAndAppliesNothing() throws Exception {
        TestDb db = PgServer.get().newDatabase("backoff");
        Path dir = tableThenAlter(db);
        try (Connection blocker = session(db, "blocker-app"); Statement st = blocker.createStatement()) {
            blocker.setAutoCommit(false);
            st.execute("lock table t in access exclusive mode");
            PgshiftProcess run = PgshiftProcess.start(args(dir, "run", "--lock-timeout", "1s", "--lock-retries", "5"), noBackup(db));
            awaitLog(run, "retrying in 4000 ms");
            long sent = System.nanoTime();
            run.signal("TERM");
            Result r = run.await(Duration.ofSeconds(30));
            double seconds = (System.nanoTime() - sent) / 1e9;
            assertEquals(75, r.exitCode(), r.toString());
            assertTrue(seconds < 2, "stopped " + seconds + " s after SIGTERM");
            assertTrue(r.stdout().contains("STOPPED"), r.stdout());
            assertFalse(r.all().contains("in null"), r.all());
            blocker.rollback();
        }
        assertEquals(List.of("1"), db.appliedVersions());
    }

    /**
     * SIGTERM while pgshift is still starting (the JVM and Quarkus, before the command runs): exit 75 with the report,
     * nothing applied, as anywhere later (the chaos soak found exit 143 and no report, a signal 1 s into a start). The
     * start is slowed (interpreter only) so that the signal lands in it.
     */
    @Test
    @Tag(OneMajor.TAG)
    void sigtermWhilePgshiftIsStartingExits75WithAReportAndAppliesNothing() throws Exception {
        TestDb db = PgServer.get().newDatabase("early_term");
        Path dir = migrations("V1__t.sql", "CREATE TABLE t (id int);\n");
        Map<String, String> env = noBackup(db);
        env.put("PGSHIFT_JAVA_OPTS", "-Xint");
        PgshiftProcess run = PgshiftProcess.start(args(dir, "run"), env);
        Thread.sleep(1500);
        assertEquals("", run.stderrSoFar(), "the signal must land before the command logs anything");
        run.signal("TERM");
        Result r = run.await(Duration.ofSeconds(60));
        assertEquals(75, r.exitCode(), r.toString());
        assertTrue(r.stdout().contains("STOPPED"), r.stdout());
        assertTrue(r.stderr().contains("SIGTERM (while pgshift was starting)"), r.stderr());
        assertEquals(List.of(), db.appliedVersions());
        assertNull(db.scalar("select to_regclass('public.t')"));
    }

    @Test
    @Tag(OneMajor.TAG)
    void lockRetriesExhaustedNameTheBlockingSession() throws Exception {
        TestDb db = PgServer.get().newDatabase("blockername");
        Path dir = tableThenAlter(db);
        try (Connection blocker = session(db, "blocker-app"); Statement st = blocker.createStatement()) {
            blocker.setAutoCommit(false);
            st.execute("lock table t in access exclusive mode");
            String pid = db.scalar("select pid from pg_stat_activity where application_name = 'blocker-app'");
            Result r = PgshiftProcess.run(args(dir, "run", "--lock-timeout", "2s", "--lock-retries", "1"), noBackup(db));
            assertEquals(75, r.exitCode(), r.toString());
            String error = r.stderr().lines().filter(l -> l.startsWith("pgshift: ")).findFirst().orElse("");
            assertTrue(error.contains("pid " + pid + " (user '"), r.stderr());
            assertTrue(error.contains("application_name 'blocker-app', state 'idle in transaction'"), r.stderr());
            assertFalse(r.all().contains("lock table t"), "another session's query text reached pgshift's output: " + r.all());
            blocker.rollback();
        }
        assertEquals(List.of("1"), db.appliedVersions());
    }

    @Test
    void theRunLockOutlivesIdleSessionTimeoutOnTheDatabase() throws Exception {
        TestDb db = PgServer.get().newDatabase("idletimeout");
        db.execute("alter database " + db.name() + " set idle_session_timeout = '1s'");
        db.execute("alter database " + db.name() + " set idle_in_transaction_session_timeout = '1s'");
        Path dir = migrations("V1__a.sql", "CREATE TABLE a (id int);\nSELECT pg_sleep(3);\n", "V2__b.sql", "CREATE TABLE b (id int);\n",
                "V3__c.sql", "SELECT pg_sleep(2);\n");
        PgshiftProcess run = PgshiftProcess.start(args(dir, "run"), db.env());
        db.awaitActive("pg_sleep(3)");
        assertEquals("t", db.scalar("select count(*) = 1 from pg_locks where locktype = 'advisory' and granted and objid = "
                + (dev.pgshift.db.RunLock.KEY & 0xffffffffL)));
        db.awaitActive("pg_sleep(2)");
        assertEquals("t", db.scalar("select count(*) = 1 from pg_locks where locktype = 'advisory' and granted and objid = "
                + (dev.pgshift.db.RunLock.KEY & 0xffffffffL)), "the run lock's session outlived 1 s of idleness");
        Result r = run.await(Duration.ofSeconds(60));
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(List.of("1", "2", "3"), db.appliedVersions());
    }

    @Test
    void aRunThatLosesItsLockStopsWith75BeforeCommittingMore() throws Exception {
        TestDb db = PgServer.get().newDatabase("locklost");
        Path dir = migrations("V1__a.sql", "CREATE TABLE a (id int);\nSELECT pg_sleep(3);\n", "V2__b.sql", "CREATE TABLE b (id int);\n");
        PgshiftProcess run = PgshiftProcess.start(args(dir, "run"), noBackup(db));
        db.awaitActive("pg_sleep(3)");
        db.execute("select pg_terminate_backend(l.pid) from pg_locks l where l.locktype = 'advisory' and l.granted and l.objid = "
                + (dev.pgshift.db.RunLock.KEY & 0xffffffffL));
        Result r = run.await(Duration.ofSeconds(60));
        assertEquals(75, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("lost the run lock"), r.stderr());
        assertEquals(List.of(), db.appliedVersions(), "V1 was rolled back before its commit, V2 never ran");
        assertEquals(null, db.scalar("select to_regclass('public.a')"));
        Result again = PgshiftProcess.run(args(dir, "run"), noBackup(db));
        assertEquals(0, again.exitCode(), again.toString());
    }

    /** A database as a killed pgshift left it: created, owned by the run's role, still marked unfinished. */
    private static void leftBehind(TestDb db, String name, String marker) throws Exception {
        try (Connection c = db.server().admin("postgres"); Statement st = c.createStatement()) {
            st.execute("create database " + name + " owner " + db.user());
            st.execute("comment on database " + name + " is '" + marker + "'");
        }
    }

    private static boolean exists(TestDb db, String name) {
        return !db.query("select 1 from pg_database where datname = '" + name + "'").isEmpty();
    }

    @Test
    @Tag(OneMajor.TAG)
    void theRehearsalAndVerifyCopiesOfAKilledRunAreDroppedByTheNextRun() throws Exception {
        TestDb db = PgServer.get().newDatabase("scratchleft");
        String rehearsal = "pgshift_rehearsal_" + db.name().substring(db.name().length() - 6);
        String verify = "pgshift_verify_" + db.name().substring(db.name().length() - 6);
        String otherDbs = "pgshift_rehearsal_other" + db.name().substring(db.name().length() - 6);
        leftBehind(db, rehearsal, "pgshift rehearsal copy of " + db.name() + ", unfinished");
        leftBehind(db, verify, "pgshift verify-restore copy of " + db.name() + ", unfinished");
        leftBehind(db, otherDbs, "pgshift rehearsal copy of another_database, unfinished");
        Path dir = migrations("V1__t.sql", "CREATE TABLE t (id int);\n");
        Result r = PgshiftProcess.run(args(dir, "run"), noBackup(db));
        assertEquals(0, r.exitCode(), r.toString());
        assertFalse(exists(db, rehearsal), "a killed run's rehearsal copy is dropped");
        assertFalse(exists(db, verify), "a killed run's verify-restore copy is dropped");
        assertTrue(exists(db, otherDbs), "another database's copy is another run's business");
        assertTrue(r.stderr().contains("dropped database " + rehearsal), r.stderr());
        try (Connection c = db.server().admin("postgres"); Statement st = c.createStatement()) {
            st.execute("drop database " + otherDbs);
        }
    }

    /** A new database holding a table, where this machine's pg_restore can restore a dump of it (else the test is skipped). */
    private TestDb restorableWithATable(String name) throws Exception {
        TestDb db = PgServer.get().newDatabase(name);
        int major = db.server().major();
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.pgshift.testing.PgClients.restoresInto(major),
                dev.pgshift.testing.PgClients.noRestoreReason(major));
        tableThenAlter(db);
        return db;
    }

    @Test
    @Tag(OneMajor.TAG)
    void aRestoreRetriedAfterAKillReplacesTheUnfinishedTargetItLeft() throws Exception {
        TestDb db = restorableWithATable("restoreleft");
        Path dump = backup(db);
        String into = db.name() + "_copy";
        try (Connection c = db.server().admin("postgres"); Statement st = c.createStatement()) {
            st.execute("alter role " + db.user() + " createdb"); // restore creates databases
        }
        leftBehind(db, into, "pgshift restore of " + db.name() + ", unfinished");
        Result r = PgshiftProcess.run(List.of("restore", "--into", into, dump.toString()), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(List.of(List.of("1")), db.query("select count(*) from pg_database where datname = '" + into + "' "
                + "and shobj_description(oid, 'pg_database') is null"), "restored, no longer marked unfinished");
        Result again = PgshiftProcess.run(List.of("restore", "--into", into, dump.toString()), db.env());
        assertEquals(3, again.exitCode(), "a finished restore's database is the user's: never replaced\n" + again);
        try (Connection c = db.server().admin("postgres"); Statement st = c.createStatement()) {
            st.execute("drop database " + into + " with (force)");
        }
    }

    /** Backs {@code db} up with pgshift backup; the dump it made. */
    private Path backup(TestDb db) throws Exception {
        Result backup = PgshiftProcess.run(List.of("backup", "--backup-dir", backups().toString()), db.env());
        assertEquals(0, backup.exitCode(), backup.toString());
        try (Stream<Path> s = Files.list(backups())) {
            return s.filter(p -> p.toString().endsWith(".dump")).findFirst().orElseThrow();
        }
    }

    /** The OS processes below {@code pid} (pg_dump, pg_restore), found while pgshift is alive. */
    private static List<ProcessHandle> children(PgshiftProcess run) {
        return run.process().descendants().toList();
    }

    @Test
    @Tag(OneMajor.TAG)
    void pgDumpDiesWithAKilledRunAndTheNextRunCompletesWithCompleteBackupsOnly() throws Exception {
        TestDb db = PgServer.get().newDatabase("dumpkilled");
        Path dir = tableThenAlter(db);
        // Left by interrupted runs of an earlier release (names without the server's key), days ago: a manifest without its
        // dump, a dump without its manifest.
        Files.createDirectories(backups());
        java.nio.file.attribute.FileTime daysAgo = java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(Duration.ofDays(2)));
        Files.setLastModifiedTime(Files.writeString(backups().resolve("20260101T000000Z_" + db.name() + "_deadbeef.dump.manifest.json"), "{}"), daysAgo);
        Files.setLastModifiedTime(Files.writeString(backups().resolve("20260101T000001Z_" + db.name() + "_cafebabe.dump"), "PGDMP"), daysAgo);
        try (Connection blocker = session(db, "blocker-app"); Statement st = blocker.createStatement()) {
            blocker.setAutoCommit(false);
            st.execute("lock table t in access exclusive mode"); // pg_dump waits for its ACCESS SHARE lock on t
            PgshiftProcess run = PgshiftProcess.start(args(dir, "run", "--backup", "always"), db.env());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (db.query("select 1 from pg_stat_activity where application_name like 'pgshift%' and wait_event_type = 'Lock'").isEmpty()) {
                assertTrue(System.nanoTime() < deadline && run.process().isAlive(), run.stderrSoFar());
                Thread.sleep(50);
            }
            List<ProcessHandle> tools = children(run);
            assertFalse(tools.isEmpty(), "pg_dump runs as pgshift's child");
            run.signal("KILL");
            run.await(Duration.ofSeconds(10));
            long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (tools.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertFalse(tools.stream().anyMatch(ProcessHandle::isAlive), "pg_dump outlived the killed run: "
                    + tools.stream().filter(ProcessHandle::isAlive).map(p -> p.info().commandLine().orElse("?")).toList());
            awaitGone(db, "application_name like 'pgshift%'", Duration.ofSeconds(10));
            blocker.rollback();
        }
        Result again = PgshiftProcess.run(args(dir, "run", "--backup", "always"), db.env());
        assertEquals(0, again.exitCode(), again.toString());
        try (Stream<Path> s = Files.list(backups())) {
            List<String> files = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(2, files.size(), files.toString());
            assertTrue(files.get(0).endsWith(".dump") && files.get(1).equals(files.get(0) + ".manifest.json"), files.toString());
        }
    }

    @Test
    @Tag(OneMajor.TAG)
    void sigtermStopsARestoreAndItsPgRestore() throws Exception {
        TestDb db = restorableWithATable("restorestop");
        Path dump = backup(db);
        try (Connection blocker = session(db, "blocker-app"); Statement st = blocker.createStatement()) {
            blocker.setAutoCommit(false);
            st.execute("lock table t in access exclusive mode"); // pg_restore --clean waits to drop t
            PgshiftProcess restore = PgshiftProcess.start(List.of("restore", "--overwrite-live", dump.toString()), db.env());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (db.query("select 1 from pg_stat_activity where application_name like 'pgshift%' and wait_event_type = 'Lock'").isEmpty()) {
                assertTrue(System.nanoTime() < deadline && restore.process().isAlive(), restore.stderrSoFar());
                Thread.sleep(50);
            }
            List<ProcessHandle> tools = children(restore);
            long sent = System.nanoTime();
            restore.signal("TERM");
            Result r = restore.await(Duration.ofSeconds(20));
            double seconds = (System.nanoTime() - sent) / 1e9;
            assertEquals(75, r.exitCode(), r.toString());
            assertTrue(seconds < 5, "stopped " + seconds + " s after SIGTERM");
            assertFalse(tools.stream().anyMatch(ProcessHandle::isAlive), "pg_restore outlived the stopped restore");
            blocker.rollback();
        }
        assertEquals(List.of("1"), db.appliedVersions(), "the restore (one transaction) was rolled back");
    }
}
