package dev.pgshift.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One run per database: a second run polls for the lock, and its waiting does not stall the first run's concurrent build. */
class RunLockIT {

    static boolean lockHeld(TestDb db) {
        return !db.query("select 1 from pg_locks where locktype = 'advisory' and granted and objid = "
                + (RunLock.KEY & 0xffffffffL) + " and classid = " + (RunLock.KEY >>> 32)).isEmpty();
    }

    @Test
    void secondRunWaitsByPollingAndTheFirstRunsConcurrentBuildIsNotDelayed() throws Exception {
        TestDb db = PgServer.get().newDatabase("twoRuns");
        List<String> args = List.of("migrate", "--bundled=false", "--migrations", Path.of("src/test/resources/concurrent").toString(),
                "--lock-wait", "90s");
        long start = System.nanoTime();
        PgshiftProcess first = PgshiftProcess.start(args, db.env());
        while (!lockHeld(db)) {
            Thread.sleep(50);
        }
        PgshiftProcess second = PgshiftProcess.start(args, db.env());
        Result a = first.await(Duration.ofSeconds(100));
        double firstSeconds = (System.nanoTime() - start) / 1e9;
        Result b = second.await(Duration.ofSeconds(100));

        assertEquals(0, a.exitCode(), a.toString());
        assertEquals(0, b.exitCode(), b.toString());
        // 4 s of pg_sleep plus start-up and the build; a second run blocked in pg_advisory_lock would have held the
        // concurrent build until its 90 s lock wait ran out.
        assertTrue(firstSeconds < 30, "first run took " + firstSeconds + " s:\n" + a + "\n" + b);
        assertTrue(b.stderr().contains("waiting for the run lock"), b.stderr());
        assertTrue(b.stdout().contains("applied   none"), b.stdout());
        assertEquals(List.of("1", "2"), db.appliedVersions());
        assertEquals("t", db.scalar("select indisvalid from pg_index where indexrelid = 'items_val_idx'::regclass"));
        assertEquals(false, lockHeld(db), "lock released");
    }

    @Test
    void runLockHeldTooLongExits75AndAppliesNothing() throws Exception {
        TestDb db = PgServer.get().newDatabase("lockHeld");
        try (var holder = db.connect(); var st = holder.createStatement()) {
            st.execute("select pg_advisory_lock(" + RunLock.KEY + ")");
            Result r = PgshiftProcess.run(List.of("migrate", "--lock-wait", "2s"), db.env());
            assertEquals(75, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("holds the run lock, pid "), r.stderr());
        }
        assertEquals(List.of(), db.appliedVersions());
    }
}
