package dev.pgshift.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SIGTERM (Kubernetes' activeDeadlineSeconds, Helm deleting a running hook Job) stops a run cleanly. */
class StopSignalIT {

    @Test
    void sigtermCancelsTheStatementReleasesTheLockAndExits75() throws Exception {
        TestDb db = PgServer.get().newDatabase("sigterm");
        PgshiftProcess run = PgshiftProcess.start(List.of("migrate", "--bundled=false", "--migrations",
                Path.of("src/test/resources/slow").toString()), db.env());
        db.awaitActive("pg_sleep(120)");
        long sent = System.nanoTime();
        run.signal("TERM");
        Result r = run.await(Duration.ofSeconds(30));
        double seconds = (System.nanoTime() - sent) / 1e9;

        assertEquals(75, r.exitCode(), r.toString());
        assertTrue(seconds < 10, "stopped in " + seconds + " s");
        assertTrue(r.stderr().contains("SIGTERM"), r.stderr());
        assertTrue(r.stdout().contains("STOPPED"), r.stdout());
        assertEquals(List.of(), db.query("select pid from pg_stat_activity where query like '%pg_sleep(120)%' and pid <> pg_backend_pid()"));
        assertEquals(false, RunLockIT.lockHeld(db), "run lock released");
        assertEquals("0", db.scalar("select count(*) from pg_tables where tablename = 'slow_marker'"), "transaction rolled back");
        assertEquals(List.of(), db.appliedVersions());
    }
}
