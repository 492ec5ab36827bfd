package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.OneMajor;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's statement on a million rows, as the issue asks: as one UPDATE, and as a backfill interrupted by SIGKILLs
 * at seeded random points; the results are the same, each row updated once; an application-like writer updating random
 * rows waits for the single UPDATE's whole duration and for the backfill no longer than a batch. One major (the
 * batching is pgshift's; BackfillIT runs the semantics on every major).
 */
@Tag(OneMajor.TAG)
class BackfillSoakIT {
    private static final int ROWS = 1_000_000;

    @TempDir
    Path tmp;

    /** Updates random rows of {@code table} (triggers off: it is not the migration) and keeps the longest wait. */
    static final class Writer implements AutoCloseable {
        final AtomicLong worstNanos = new AtomicLong();
        final AtomicLong writes = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Writer(TestDb db, String table) throws Exception {
            Connection c = db.server().admin(db.name());
            try (Statement st = c.createStatement()) {
                st.execute("set session_replication_role = replica");
            }
            PreparedStatement ps = c.prepareStatement("update " + table + " set touched = touched + 1 where \"Id\" = ?");
            Random random = new Random(7);
            thread = new Thread(() -> {
                try (c; ps) {
                    while (running.get()) {
                        ps.setLong(1, 3L * (1 + random.nextInt(ROWS)));
                        long t = System.nanoTime();
                        ps.executeUpdate();
                        worstNanos.accumulateAndGet(System.nanoTime() - t, Math::max);
                        writes.incrementAndGet();
                        Thread.sleep(2);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            thread.start();
        }

        void reset() {
            worstNanos.set(0);
            writes.set(0);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(60_000);
        }
    }

    @Test
    void aMillionRowsOnceEachAfterKillsWhileAWriterNeverWaitsLongerThanABatch() throws Exception {
        TestDb db = PgServer.get().newDatabase("backfill_soak");
        String create = " (\"Id\" bigint PRIMARY KEY, generation_status text, updates int NOT NULL DEFAULT 0, touched int NOT NULL DEFAULT 0);\n";
        Path dir = Fixtures.write(tmp.resolve("m"), "V1__characters.sql", "CREATE TABLE characters" + create
                + "CREATE TABLE characters_single" + create
                + "CREATE FUNCTION count_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updates := OLD.updates + 1; RETURN NEW; END $$;\n"
                + "CREATE TRIGGER counts BEFORE UPDATE ON characters FOR EACH ROW EXECUTE FUNCTION count_update();\n"
                + "INSERT INTO characters (\"Id\", generation_status) SELECT g * 3, CASE WHEN g % 3 = 0 THEN 'PENDING' END "
                + "FROM generate_series(1, " + ROWS + ") g;\n"
                + "INSERT INTO characters_single SELECT * FROM characters;\nANALYZE characters;\nANALYZE characters_single;\n");
        assertEquals(0, PgshiftProcess.run(Fixtures.args("migrate", dir), db.env()).exitCode());

        // The seed's statement as written, one transaction: plan warns with the backfill form; the writer waits it out.
        Fixtures.write(dir, "V2__single.sql", "UPDATE characters_single SET generation_status = 'COMPLETED' WHERE generation_status IS NULL;\n");
        Result plan = PgshiftProcess.run(Fixtures.args("plan", dir), db.env());
        assertTrue(plan.stdout().contains("'-- pgshift:backfill'"), plan.stdout());
        long single;
        long singleWorst;
        try (Writer w = new Writer(db, "characters_single")) {
            Thread.sleep(500);
            long t = System.nanoTime();
            Result r = PgshiftProcess.run(Fixtures.args("migrate", dir), db.env());
            single = System.nanoTime() - t;
            assertEquals(0, r.exitCode(), r.toString());
            singleWorst = w.worstNanos.get();
        }

        // The same statement as a backfill: killed at seeded random points, then run to the end under the writer.
        Fixtures.write(dir, "V3__backfill.sql", "-- pgshift:backfill batch=5000\n"
                + "UPDATE characters SET generation_status = 'COMPLETED' WHERE generation_status IS NULL;\n");
        Random random = new Random(20261207);
        for (int k = 0; k < 3; k++) {
            PgshiftProcess run = PgshiftProcess.start(Fixtures.args("migrate", dir), db.env());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!run.stderrSoFar().contains("backfill 3:") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(300 + random.nextInt(2000));
            run.signal("KILL");
            run.await(Duration.ofSeconds(30));
        }
        long backfill;
        long backfillWorst;
        long writes;
        Result done;
        try (Writer w = new Writer(db, "characters")) {
            Thread.sleep(500);
            w.reset();
            long t = System.nanoTime();
            done = PgshiftProcess.run(Fixtures.args("migrate", dir), db.env());
            backfill = System.nanoTime() - t;
            backfillWorst = w.worstNanos.get();
            writes = w.writes.get();
        }
        assertEquals(0, done.exitCode(), done.toString());
        assertTrue(done.stderr().contains("resuming backfill 3"), "the kills left it part-way: " + done.stderr());
        assertEquals(List.of(List.of("COMPLETED", "1", String.valueOf(ROWS - ROWS / 3)), List.of("PENDING", "0", String.valueOf(ROWS / 3))),
                db.query("select generation_status, updates, count(*) from characters group by 1, 2 order by 1, 2"));
        assertEquals(db.scalar("select md5(string_agg(\"Id\" || ':' || generation_status, ',' order by \"Id\")) from characters_single"),
                db.scalar("select md5(string_agg(\"Id\" || ':' || generation_status, ',' order by \"Id\")) from characters"),
                "the backfill leaves what the single UPDATE leaves");
        System.out.printf("single UPDATE of %d rows: run %.1f s, writer's worst wait %.0f ms; backfill (last run, after 3 kills): run %.1f s, "
                + "writer's worst wait %.0f ms over %d writes%n", ROWS, single / 1e9, singleWorst / 1e6, backfill / 1e9, backfillWorst / 1e6, writes);
        assertTrue(backfillWorst < Duration.ofMillis(1500).toNanos(), "the writer waited " + backfillWorst / 1_000_000 + " ms for a batch");
        assertTrue(singleWorst > 2 * backfillWorst, "the single UPDATE held the writer " + singleWorst / 1_000_000 + " ms, the backfill "
                + backfillWorst / 1_000_000 + " ms");
    }
}
