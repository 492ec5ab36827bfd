package dev.pgshift.migrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backfill on a server with a streaming standby that replays 2 s behind (recovery_min_apply_delay): with max-lag
 * below that, batches wait for the replica (pg_stat_replication's replay_lag), and say so; the standby ends with the
 * backfilled rows. A primary and a standby of the test's own, made from a cold copy of the primary's data directory.
 */
@Tag(OneMajor.TAG)
class BackfillReplicaIT {
    @TempDir
    Path tmp;

    @Test
    void batchesWaitWhileTheReplicaReplaysFurtherBehindThanMaxLag() throws Exception {
        Path primaryDir = tmp.resolve("primary");
        Path standbyDir = tmp.resolve("standby");
        PgServer primary = PgServer.start(0, primaryDir);
        int port = primary.port();
        primary.stop();
        try (var files = Files.walk(primaryDir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path to = standbyDir.resolve(primaryDir.relativize(p).toString());
                String name = p.getFileName().toString();
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else if (!name.equals("postmaster.pid") && !name.startsWith("epg-lock")) {
                    Files.copy(p, to);
                }
            }
        }
        Files.setPosixFilePermissions(standbyDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Files.writeString(standbyDir.resolve("standby.signal"), "");
        Files.writeString(standbyDir.resolve("postgresql.auto.conf"), "\nprimary_conninfo = 'host=127.0.0.1 port=" + port
                + " user=postgres sslmode=disable'\nrecovery_min_apply_delay = '2s'\nwal_receiver_status_interval = '1s'\n",
                StandardOpenOption.APPEND);
        primary = PgServer.start(port, primaryDir);
        PgServer standby = PgServer.start(0, standbyDir);
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!streaming(primary)) {
                assertTrue(System.nanoTime() < deadline, "the standby does not stream");
                Thread.sleep(200);
            }
            TestDb db = primary.newDatabase("replica");
            Path dir = Fixtures.write(tmp.resolve("m"), "V1__t.sql", "CREATE TABLE t (id int PRIMARY KEY, done boolean NOT NULL DEFAULT false);\n"
                    + "INSERT INTO t (id) SELECT generate_series(1, 3000);\n",
                    "V2__done.sql", "-- pgshift:backfill batch=1000 target=0 pause=0ms max-lag=500ms\nUPDATE t SET done = true WHERE NOT done;\n");
            Result hidden = PgshiftProcess.run(Fixtures.args("migrate", dir), db.env());
            assertEquals(0, hidden.exitCode(), hidden.toString());
            assertTrue(hidden.stderr().contains("backfill 2 cannot see how far its 1 replica(s) lag"), hidden.stderr());
            assertTrue(hidden.stderr().contains("GRANT pg_monitor TO the role pgshift connects as"), hidden.stderr());

            try (Connection c = primary.admin("postgres"); Statement st = c.createStatement()) {
                st.execute("grant pg_monitor to " + db.user());
            }
            Fixtures.write(dir, "V3__undone.sql", "-- pgshift:backfill batch=1000 target=0 pause=0ms max-lag=500ms\nUPDATE t SET done = false;\n",
                    // ten batches, 300 ms apart: the replica, 2 s behind, falls more than max-lag behind them
                    "V4__done.sql", "-- pgshift:backfill batch=300 target=0 pause=300ms max-lag=500ms\nUPDATE t SET done = true WHERE NOT done;\n");
            Path report = tmp.resolve("report.json");
            Result r = PgshiftProcess.run(Fixtures.args("migrate", dir, "--report-file", report.toString()), db.env());
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("backfill 4 waits: a replica replays"), r.stderr());
            JsonNode b = Json.MAPPER.readTree(Files.readString(report)).get("migrations").get(1).get("backfill");
            assertTrue(b.get("lagWaits").asLong() >= 2, b.toString());
            deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (true) {
                try (Connection c = standby.admin(db.name()); Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("select count(*) filter (where done) from t")) {
                    rs.next();
                    if (rs.getLong(1) == 3000) {
                        break;
                    }
                } catch (java.sql.SQLException notYet) {
                    // the database's creation is not replayed yet
                }
                assertTrue(System.nanoTime() < deadline, "the standby did not replay the backfill");
                Thread.sleep(500);
            }
        } finally {
            standby.stop();
            primary.stop();
        }
    }

    private static boolean streaming(PgServer primary) throws Exception {
        try (Connection c = primary.admin("postgres"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select count(*) from pg_stat_replication where state = 'streaming'")) {
            rs.next();
            return rs.getLong(1) > 0;
        }
    }
}
