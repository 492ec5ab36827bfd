package dev.pgshift.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The password appears in no channel pgshift writes to, on success and on each failure path. */
@org.junit.jupiter.api.Tag(dev.pgshift.testing.OneMajor.TAG) // what reaches pgshift's outputs does not depend on the server's major
class SecretsIT {
    @TempDir
    Path tmp;

    private static void assertNoSecret(TestDb db, Result r) {
        assertFalse(r.stdout().contains(db.password()), "password on stdout:\n" + r);
        assertFalse(r.stderr().contains(db.password()), "password on stderr:\n" + r);
    }

    @Test
    void successAndEveryFailureKeepThePasswordOut() throws Exception {
        TestDb db = PgServer.get().newDatabase("secrets");
        Result ok = PgshiftProcess.run(List.of("run", "--verbose"), db.env());
        assertEquals(0, ok.exitCode(), ok.toString());
        assertNoSecret(db, ok);

        Map<String, String> unknownDb = new HashMap<>(db.env());
        unknownDb.put("PGDATABASE", "no_such_db");
        Result r3 = PgshiftProcess.run(List.of("run", "--verbose"), unknownDb);
        assertEquals(3, r3.exitCode(), r3.toString());
        assertNoSecret(db, r3);

        Path bad = tmp.resolve("bad");
        Files.createDirectories(bad);
        Files.writeString(bad.resolve("V99990101000000__boom.sql"), "SELECT 1/0;");
        // --bundled=true: a failing file beside the bundled ones already applied (-m alone would replace them: exit 3).
        Result r5 = PgshiftProcess.run(List.of("migrate", "--verbose", "--migrations", bad.toString(), "--bundled=true"), db.env());
        assertEquals(5, r5.exitCode(), r5.toString());
        assertNoSecret(db, r5);

        Map<String, String> uri = new HashMap<>(db.env());
        uri.put("PGSHIFT_URL", "postgresql://" + db.user() + ":" + db.password() + "@localhost:" + db.server().port() + "/" + db.name()
                + "?sslmode=disable");
        uri.remove("PGPASSWORD");
        Result viaUri = PgshiftProcess.run(List.of("plan", "--verbose"), uri);
        assertEquals(0, viaUri.exitCode(), viaUri.toString());
        assertNoSecret(db, viaUri);

        List<String> flagArgs = new ArrayList<>(List.of("plan", "--url", "postgresql://" + db.user() + ":" + db.password() + "@localhost:"
                + db.server().port() + "/" + db.name()));
        Result viaFlag = PgshiftProcess.run(flagArgs, Map.of());
        assertEquals(3, viaFlag.exitCode(), viaFlag.toString());
        assertTrue(viaFlag.stderr().contains("process list"), viaFlag.stderr());
        assertNoSecret(db, viaFlag);
    }

    @Test
    void passwordFileKeepsThePasswordOutOfTheProcessArguments() throws Exception {
        TestDb db = PgServer.get().newDatabase("cmdline");
        List<String> args = new ArrayList<>(List.of("migrate", "--bundled=false", "--migrations", Path.of("src/test/resources/slow").toString()));
        args.addAll(db.flags(tmp));
        PgshiftProcess run = PgshiftProcess.start(args, Map.of());
        db.awaitActive("pg_sleep(120)");
        String cmdline = Files.readString(Path.of("/proc/" + run.pid() + "/cmdline")).replace('\0', ' ');
        assertTrue(cmdline.contains("--password-file"), cmdline);
        assertFalse(cmdline.contains(db.password()), cmdline);
        run.signal("TERM");
        Result r = run.await(Duration.ofSeconds(30));
        assertEquals(75, r.exitCode(), r.toString());
        assertNoSecret(db, r);
    }

    /**
     * A session that blocks a migration and whose last statement held a password literal: pgshift names it by pid (and
     * user, application, state, wait), and the password reaches no output, report, termination message or history row
     * (its query text used to be copied into all of them).
     */
    @Test
    void aBlockersQueryTextReachesNoOutputReportOrHistory() throws Exception {
        TestDb db = PgServer.get().newDatabase("blockertext");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("V1__t.sql"), "CREATE TABLE t (id int);\n");
        List<String> base = List.of("migrate", "--bundled=false", "--migrations", dir.toString());
        assertEquals(0, PgshiftProcess.run(base, db.env()).exitCode());
        Files.writeString(dir.resolve("V2__alter.sql"), "ALTER TABLE t ADD COLUMN note text;\n");
        Path report = tmp.resolve("report.json");
        Path termination = tmp.resolve("termination-log");
        String secret = "hunter2-secret";
        Result r;
        int blockerPid;
        try (java.sql.Connection blocker = db.connect(); java.sql.Statement st = blocker.createStatement()) {
            blocker.setAutoCommit(false);
            java.sql.ResultSet rs = st.executeQuery("select pg_backend_pid()");
            rs.next();
            blockerPid = rs.getInt(1);
            st.executeQuery("select count(*) from t");
            // its last statement, as pg_stat_activity shows it, holds a password literal
            st.execute("do $$ begin perform 'ALTER ROLE app PASSWORD ''" + secret + "'''; end $$");
            List<String> args = new ArrayList<>(base);
            args.addAll(List.of("--lock-timeout", "1s", "--lock-retries", "1", "--report-file", report.toString(), "--termination-log",
                    termination.toString()));
            r = PgshiftProcess.run(args, db.env());
            blocker.rollback();
        }
        assertEquals(75, r.exitCode(), r.toString());
        assertTrue(r.all().contains("pid " + blockerPid), r.all());
        assertFalse(r.all().contains(secret), r.all());
        assertFalse(Files.readString(report).contains(secret), Files.readString(report));
        assertFalse(Files.readString(termination).contains(secret), Files.readString(termination));
        assertEquals("0", db.scalar("select count(*) from pgshift.run_history h where h::text like '%" + secret + "%'"));
    }

    /** The report, the termination message and a backup directory pgshift creates are its user's only (were 0644, 0755). */
    @Test
    void filesPgshiftCreatesAreItsUsersOnly() throws Exception {
        TestDb db = PgServer.get().newDatabase("modes");
        Path out = tmp.resolve("out");
        Path report = out.resolve("nested/report.json");
        Path termination = tmp.resolve("termination-log");
        Files.writeString(termination, "");
        Files.setPosixFilePermissions(termination, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Path backups = tmp.resolve("backups/db");
        Result r = PgshiftProcess.run(List.of("run", "--report-file", report.toString(), "--termination-log", termination.toString(),
                "--backup-dir", backups.toString()), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("rw-------", modes(report));
        assertEquals("rw-------", modes(termination));
        assertEquals("rwx------", modes(backups));
        assertEquals("rwx------", modes(report.getParent()));
    }

    /**
     * pg_dump and pg_restore get the password through a 0600 PGPASSFILE in a 0700 directory, never in their environment
     * (readable in /proc by the user's other processes, inherited by what they start); pg_restore reading the archive
     * back gets no connection at all; the file is gone when the run ends. A password file others may read is warned about.
     */
    @Test
    void theToolsGetThePasswordThroughAPrivateFileNeverTheirEnvironment() throws Exception {
        TestDb db = PgServer.get().newDatabase("passfile");
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path seen = Files.createDirectories(tmp.resolve("seen"));
        for (Path real : List.of(dev.pgshift.testing.PgClients.pgDump(), dev.pgshift.testing.PgClients.pgRestore())) {
            String tool = real.getFileName().toString();
            Path script = bin.resolve(tool);
            Files.writeString(script, "#!/bin/sh\n"
                    + "f=\"" + seen + "/" + tool + ".$$\"\n"
                    + "{ echo \"ARGS $*\"; env; if [ -n \"$PGPASSFILE\" ]; then echo \"FILEMODE $(stat -c %a \"$PGPASSFILE\")\"; "
                    + "echo \"DIRMODE $(stat -c %a \"$(dirname \"$PGPASSFILE\")\")\"; echo \"CONTENT $(cat \"$PGPASSFILE\")\"; fi; } > \"$f\"\n"
                    + "exec \"" + real + "\" \"$@\"\n");
            script.toFile().setExecutable(true);
        }
        // --verify-restore (a pg_restore that connects) where this pg_restore can load into the server (not 17 into 16)
        boolean restores = dev.pgshift.testing.PgClients.restoresInto(db.server().major());
        if (restores) {
            try (java.sql.Connection admin = db.server().admin("postgres"); java.sql.Statement st = admin.createStatement()) {
                st.execute("alter role " + db.user() + " createdb");
            }
        }
        Path pw = db.passwordFile(tmp);
        Files.setPosixFilePermissions(pw, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        List<String> args = new ArrayList<>(List.of("run", "--backup", "always", "--verify-restore=" + restores, "--backup-dir", tmp.resolve("b").toString(),
                "--pg-dump", bin.resolve("pg_dump").toString(), "--url", db.jdbcUrl() + "?sslmode=disable", "--user", db.user(),
                "--password-file", pw.toString()));
        Result r = PgshiftProcess.run(args, Map.of());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("the password file " + pw + " (--password-file / PGSHIFT_PASSWORD_FILE) holds the password and "
                + "other users may read it (mode rw-r--r--)"), r.stderr());
        assertNoSecret(db, r);

        List<String> records = new ArrayList<>();
        try (var files = Files.list(seen)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                records.add(f.getFileName() + "\n" + Files.readString(f));
            }
        }
        List<String> connecting = records.stream().filter(x -> x.contains("PGHOST=")).toList();
        List<String> offline = records.stream().filter(x -> !x.contains("PGHOST=") && !x.contains("ARGS --version")).toList();
        assertTrue(connecting.stream().anyMatch(x -> x.startsWith("pg_dump.")), "pg_dump connects: " + records);
        assertEquals(restores, connecting.stream().anyMatch(x -> x.startsWith("pg_restore.")), "--verify-restore's pg_restore connects: " + records);
        assertTrue(offline.size() >= 2, "reading the archive back (while dumping, then its table of contents) needs no server: " + records);
        String passFile = null;
        for (String x : connecting) {
            assertFalse(x.contains("PGPASSWORD"), x);
            assertFalse(x.replace("CONTENT *:*:*:*:" + db.password(), "").contains(db.password()), "the password only in the file: " + x);
            assertTrue(x.contains("FILEMODE 600") && x.contains("DIRMODE 700") && x.contains("CONTENT *:*:*:*:" + db.password()), x);
            passFile = x.lines().filter(l -> l.startsWith("PGPASSFILE=")).findFirst().orElseThrow().substring("PGPASSFILE=".length());
        }
        for (String x : offline) {
            assertFalse(x.contains("PGPASS") || x.contains(db.password()) || x.contains("PGUSER="), "no connection settings: " + x);
        }
        assertFalse(Files.exists(Path.of(passFile)), "the password file is removed when the tools are done");
        assertFalse(Files.exists(Path.of(passFile).getParent()), "and its directory");

        // The password in pgshift's own environment (Prisma's DATABASE_URL) is not passed on either (it was: only PG* were removed).
        try (var old = Files.list(seen)) {
            for (Path f : (Iterable<Path>) old::iterator) {
                Files.delete(f);
            }
        }
        Map<String, String> viaEnv = Map.of("DATABASE_URL", "postgresql://" + db.user() + ":" + db.password() + "@localhost:" + db.server().port()
                + "/" + db.name() + "?sslmode=disable", "SOME_CI_SECRET", db.password());
        Result backup = PgshiftProcess.run(List.of("backup", "--backup-dir", tmp.resolve("b").toString(), "--pg-dump", bin.resolve("pg_dump").toString()),
                viaEnv);
        assertEquals(0, backup.exitCode(), backup.toString());
        try (var files = Files.list(seen)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String x = Files.readString(f);
                assertFalse(x.replace("CONTENT *:*:*:*:" + db.password(), "").contains(db.password()), "no child has the password in its environment: " + x);
            }
        }

        Files.setPosixFilePermissions(pw, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Result quiet = PgshiftProcess.run(List.of("plan", "--url", db.jdbcUrl() + "?sslmode=disable", "--user", db.user(),
                "--password-file", pw.toString()), Map.of());
        assertEquals(0, quiet.exitCode(), quiet.toString());
        assertFalse(quiet.stderr().contains("other users may read it"), quiet.stderr());
    }

    private static String modes(Path p) throws java.io.IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
