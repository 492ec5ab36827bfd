package dev.pgshift.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.FreezingProxy;
import dev.pgshift.testing.OneMajor;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A half-open connection: a proxy between pgshift and the server that stops forwarding without closing anything (a
 * network partition, a stuck load balancer). pgshift waited for good and ignored SIGTERM for a minute; now the run ends
 * with exit 75 within --network-timeout (its heartbeat gets no answer), SIGTERM ends it within seconds, and the next
 * run completes. And a backup whose pg_dump loses its session is exit 75 (retried), not 4. pgshift's own handling: one
 * major.
 */
@Tag(OneMajor.TAG)
class NetworkFaultsIT {
    @TempDir
    Path tmp;

    private Path migrations(String... nameThenSql) throws Exception {
        return Fixtures.write(tmp.resolve("m"), nameThenSql);
    }

    private static List<String> args(Path dir, String... more) {
        List<String> a = Fixtures.args(more[0], dir, java.util.Arrays.copyOfRange(more, 1, more.length));
        a.add("--backup=never");
        return a;
    }

    private static Map<String, String> through(TestDb db, FreezingProxy proxy) {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("PGPORT", String.valueOf(proxy.port()));
        return env;
    }

    @Test
    @Timeout(120)
    void aServerThatStopsAnsweringMidStatementEndsTheRunWith75WithinTheNetworkTimeout() throws Exception {
        TestDb db = PgServer.get().newDatabase("halfopen");
        Path dir = migrations("V1__t.sql", "CREATE TABLE t (id int);\n", "V2__slow.sql", "INSERT INTO t SELECT 1 FROM pg_sleep(20);\n");
        Result r;
        long frozen;
        try (FreezingProxy proxy = new FreezingProxy(PgServer.get().port())) {
            PgshiftProcess run = PgshiftProcess.start(args(dir, "run", "--network-timeout", "5s"), through(db, proxy));
            db.awaitActive("pg_sleep(20)");
            proxy.freeze();
            frozen = System.nanoTime();
            r = run.await(Duration.ofSeconds(90));
        }
        double seconds = (System.nanoTime() - frozen) / 1e9;
        assertEquals(75, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("the database connection was lost: the server answered nothing for"), r.stderr());
        assertTrue(r.stderr().contains("the connection was lost while a statement ran; the next run finds out how far it got"), r.stderr());
        assertTrue(seconds < 40, "ended " + seconds + " s after the server stopped answering (5 s network timeout, then one try to record it)");

        Files.writeString(dir.resolve("V2__slow.sql"), "INSERT INTO t SELECT 1;\n"); // never applied: the rerun need not wait again
        Result again = PgshiftProcess.run(args(dir, "run"), db.env());
        assertEquals(0, again.exitCode(), again.toString());
        assertEquals(List.of("1", "2"), db.appliedVersions());
        assertEquals("1", db.scalar("select count(*) from t"), "applied once");
    }

    @Test
    @Timeout(120)
    void sigtermWhileAReadIsStuckOnAHalfOpenConnectionEndsTheRunWithinSeconds() throws Exception {
        TestDb db = PgServer.get().newDatabase("halfopenterm");
        Path dir = migrations("V1__t.sql", "CREATE TABLE t (id int);\nSELECT pg_sleep(20);\n");
        Result r;
        double seconds;
        try (FreezingProxy proxy = new FreezingProxy(PgServer.get().port())) {
            PgshiftProcess run = PgshiftProcess.start(args(dir, "run", "--network-timeout", "10m"), through(db, proxy));
            db.awaitActive("pg_sleep(20)");
            proxy.freeze();
            Thread.sleep(1000);
            long term = System.nanoTime();
            run.signal("TERM");
            r = run.await(Duration.ofSeconds(90));
            seconds = (System.nanoTime() - term) / 1e9;
        }
        assertEquals(75, r.exitCode(), r.toString());
        assertTrue(seconds < 30, "SIGTERM took " + seconds + " s to end a run stuck on a dead connection (it took over 60 s)\n" + r);
        assertTrue(r.stderr().contains("closed the run's connections"), r.stderr());
        Files.writeString(dir.resolve("V1__t.sql"), "CREATE TABLE t (id int);\n"); // never applied: the rerun need not wait again
        Result again = PgshiftProcess.run(args(dir, "run"), db.env());
        assertEquals(0, again.exitCode(), again.toString());
        assertEquals(List.of("1"), db.appliedVersions());
    }

    /** pg_dump's session ended by an administrator (or a failover) is a lost connection: exit 75, retried; it was 4. */
    @Test
    @Timeout(120)
    void aBackupWhoseSessionIsTerminatedExits75AndTheNextRunSucceeds() throws Exception {
        TestDb db = PgServer.get().newDatabase("dumpterminated");
        Path dir = migrations("V1__t.sql", "CREATE TABLE t (id int, pad text);\n");
        assertEquals(0, PgshiftProcess.run(args(dir, "run"), db.env()).exitCode());
        db.execute("INSERT INTO t SELECT g, repeat(md5(g::text), 20) FROM generate_series(1, 400000) g");
        Files.writeString(dir.resolve("V2__more.sql"), "CREATE TABLE more (id int);\n");
        List<String> withBackup = new ArrayList<>(List.of("run", "--bundled=false", "--migrations", dir.toString(), "--backup-dir",
                tmp.resolve("backups").toString()));
        PgshiftProcess run = PgshiftProcess.start(withBackup, db.env());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String pid = null;
        while (pid == null) {
            assertTrue(System.nanoTime() < deadline, "pg_dump never started: " + run.stderrSoFar());
            List<List<String>> rows = db.query("select pid from pg_stat_activity where application_name like 'pgshift/%' and query like 'COPY%'");
            pid = rows.isEmpty() ? null : rows.get(0).get(0);
            Thread.sleep(20);
        }
        db.execute("select pg_terminate_backend(" + pid + ")");
        Result r = run.await(Duration.ofSeconds(60));
        assertEquals(75, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("the connection to the database was lost or refused: run again"), r.stderr());
        assertEquals(List.of("1"), db.appliedVersions());
        Result again = PgshiftProcess.run(withBackup, db.env());
        assertEquals(0, again.exitCode(), again.toString());
        assertEquals(List.of("1", "2"), db.appliedVersions());
    }

    /**
     * No connection slot for a session the run opens after its first (the database's connection limit reached; for
     * the server, max_connections): the run waits within --connect-timeout and goes on once one is free. It exited 75 at
     * once (SQLSTATE 53300 is passing: another Job's pool, a burst of clients).
     */
    @Test
    @Timeout(120)
    void aRunWaitsForAFreeConnectionSlotThenSucceeds() throws Exception {
        TestDb db = PgServer.get().newDatabase("noslot");
        Path dir = migrations("V1__t.sql", "CREATE TABLE t (id int);\n");
        try (java.sql.Connection admin = PgServer.get().admin(db.name()); java.sql.Statement st = admin.createStatement()) {
            st.execute("alter database " + db.name() + " connection limit 1"); // the run's first session takes the only slot
            PgshiftProcess run = PgshiftProcess.start(args(dir, "run", "--connect-timeout", "60s"), db.env());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!run.stderrSoFar().contains("no free connection slot")) {
                assertTrue(System.nanoTime() < deadline && run.process().isAlive(), "never waited for a slot:\n" + run.stderrSoFar());
                Thread.sleep(50);
            }
            Thread.sleep(2000);
            st.execute("alter database " + db.name() + " connection limit -1");
            Result r = run.await(Duration.ofSeconds(60));
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("waiting up to 60s (--connect-timeout)"), r.stderr());
        }
        assertEquals(List.of("1"), db.appliedVersions());
    }
}
