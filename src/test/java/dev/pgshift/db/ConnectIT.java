package dev.pgshift.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Waiting for the database, and TLS. */
@org.junit.jupiter.api.Tag(dev.pgshift.testing.OneMajor.TAG) // waiting and TLS are pgjdbc's and the network's, not the major's
class ConnectIT {
    @org.junit.jupiter.api.io.TempDir
    Path tmp;

    private static String readString(Path p) {
        try {
            return java.nio.file.Files.readString(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }


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
        // a mistyped port looks like a server not started yet: both are said, with what to check (it said only "raise --connect-timeout")
        assertTrue(r.stderr().contains("nothing accepts connections at localhost:" + port + " (connection refused): waiting up to 3s for a "
                + "server to start there (--connect-timeout); if one should be running, check the host and port"), r.stderr());
        assertTrue(r.stderr().contains("pgshift: no server answered within 3s"), r.stderr());
        assertTrue(r.stderr().contains("nothing accepts connections at localhost:" + port + " (connection refused). Check the host and port (--host, --port, "
                + "PGHOST/PGPORT or the URL)"), r.stderr());
        assertTrue((System.nanoTime() - start) / 1e9 < 30);
        Result unknown = PgshiftProcess.run(List.of("plan", "--host", "no-such-host.invalid", "--connect-timeout", "2s"), env);
        assertEquals(75, unknown.exitCode(), unknown.toString());
        assertTrue(unknown.stderr().contains("pgshift: no server answered within 2s"), unknown.stderr());
        assertTrue(unknown.stderr().contains("the host name no-such-host.invalid does not resolve. Check the host and port"), unknown.stderr());
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
        Path report = tmp.resolve("tls-report.json");
        Result r = PgshiftProcess.run(List.of("run", "--report-file", report.toString()), env);
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(5, db.appliedVersions().size());
        // What the connection was, as the server saw it (pg_stat_ssl), in the summary and the report
        assertTrue(r.stdout().matches("(?s).*database  .*; TLS TLSv1\\.[23], sslmode verify-full\\).*"), r.stdout());
        assertTrue(readString(report).matches("(?s).*\"tls\" : \"TLSv1\\.[23], sslmode verify-full\".*"), readString(report));
        Result plain = PgshiftProcess.run(List.of("run"), db.env());
        assertEquals(0, plain.exitCode(), plain.toString());
        assertTrue(plain.stdout().contains("; TLS none, sslmode disable)"), plain.stdout());
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

    /**
     * TLS exactly as the URL says: pgjdbc's ssl=true (verify-full) and Prisma's sslaccept=strict need a certificate that
     * verifies; before, both were dropped and the run connected without checking the server (exit 0).
     */
    @Test
    void aUrlsTlsParametersAreHonoured(@org.junit.jupiter.api.io.TempDir java.nio.file.Path home) {
        TestDb db = PgServer.get().newDatabase("tlsurl");
        String ca = PgServer.get().certs().caCert().toString();
        String other = PgServer.get().certs().otherCaCert().toString();
        String jdbc = "jdbc:postgresql://localhost:" + db.server().port() + "/" + db.name() + "?user=" + db.user() + "&ssl=true";
        String prisma = "postgresql://" + db.user() + "@localhost:" + db.server().port() + "/" + db.name() + "?sslmode=require&sslaccept=strict";
        String[][] cases = {{jdbc, "3"}, {jdbc + "&sslrootcert=" + other, "3"}, {prisma, "3"}, {jdbc + "&sslrootcert=" + ca, "0"},
            {prisma + "&sslrootcert=" + ca, "0"}};
        for (String[] c : cases) {
            Map<String, String> env = new HashMap<>(db.env());
            env.remove("PGSSLMODE");
            env.put("HOME", home.toString()); // no ~/.postgresql/root.crt of the machine's
            env.put("PGSHIFT_URL", c[0]);
            Result r = PgshiftProcess.run(List.of("plan", "--connect-timeout", "10s"), env);
            assertEquals(Integer.parseInt(c[1]), r.exitCode(), c[0] + "\n" + r);
        }
    }
}
