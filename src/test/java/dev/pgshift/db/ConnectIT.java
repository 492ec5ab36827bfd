package dev.pgshift.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Waiting for the database, and TLS. */
class ConnectIT {

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void databaseThatComesUpAfterTheRunStartedIsWaitedFor() throws Exception {
        int port = freePort();
        Map<String, String> env = Map.of("PGHOST", "localhost", "PGPORT", String.valueOf(port), "PGUSER", "postgres",
                "PGDATABASE", "postgres", "PGSSLMODE", "disable", "PGSHIFT_CONNECT_TIMEOUT", "60s");
        PgshiftProcess run = PgshiftProcess.start(List.of("run"), env);
        Thread.sleep(3000);
        PgServer late = PgServer.start(port, null);
        try {
            Result r = run.await(Duration.ofSeconds(90));
            assertEquals(0, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("waiting for database localhost:" + port + "/postgres (attempt 1)"), r.stderr());
            assertTrue(r.stdout().contains("applied   5 migration(s)"), r.stdout());
        } finally {
            late.stop();
        }
    }

    @Test
    void databaseThatNeverComesUpExits75() throws Exception {
        int port = freePort();
        Map<String, String> env = Map.of("PGHOST", "localhost", "PGPORT", String.valueOf(port), "PGUSER", "nobody", "PGPASSWORD", "x");
        long start = System.nanoTime();
        Result r = PgshiftProcess.run(List.of("run", "--connect-timeout", "3s"), env);
        assertEquals(75, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("not reachable within 3s"), r.stderr());
        assertTrue((System.nanoTime() - start) / 1e9 < 30);
    }

    @Test
    void wrongPasswordIsAConfigurationErrorNotAWait() {
        TestDb db = PgServer.get().newDatabase("wrongpw");
        Map<String, String> env = new HashMap<>(db.env());
        env.put("PGPASSWORD", "not-the-password");
        Result r = PgshiftProcess.run(List.of("run", "--connect-timeout", "60s"), env);
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("password authentication failed"), r.stderr());
    }

    @Test
    void verifyFullWithTheServersCaSucceeds() {
        TestDb db = PgServer.get().newDatabase("tlsok");
        Map<String, String> env = new HashMap<>(db.env());
        env.put("PGSSLMODE", "verify-full");
        env.put("PGSSLROOTCERT", PgServer.get().certs().caCert().toString());
        Result r = PgshiftProcess.run(List.of("run"), env);
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(5, db.appliedVersions().size());
    }

    @Test
    void verifyFullWithAnotherCaExits3AndChangesNothing() {
        TestDb db = PgServer.get().newDatabase("tlsbad");
        Map<String, String> env = new HashMap<>(db.env());
        env.put("PGSSLMODE", "verify-full");
        env.put("PGSSLROOTCERT", PgServer.get().certs().otherCaCert().toString());
        Result r = PgshiftProcess.run(List.of("run", "--connect-timeout", "30s"), env);
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(r.stderr().toLowerCase().contains("certificate") || r.stderr().contains("PKIX"), r.stderr());
        assertEquals(List.of(), db.appliedVersions());
    }
}
