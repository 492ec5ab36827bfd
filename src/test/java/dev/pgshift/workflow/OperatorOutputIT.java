package dev.pgshift.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgshift.testing.FlywayWording;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an operator reads when things go wrong: pgshift's words only, JSON lines when asked, no stray files. */
class OperatorOutputIT {
    @TempDir
    Path tmp;

    private Path dir;
    private final List<String> seen = new ArrayList<>();

    private Result pgshift(TestDb db, String command, String... more) {
        List<String> a = new ArrayList<>(List.of(command, "--bundled=false", "--migrations", dir.toString(), "--connect-timeout", "5s"));
        a.addAll(List.of(more));
        Result r = PgshiftProcess.run(a, db.env());
        String flyway = FlywayWording.find(r.all());
        assertNull(flyway, command + " " + a + ": Flyway's wording reached the user: " + flyway + "\n" + r);
        seen.add(command + " exit " + r.exitCode());
        return r;
    }

    private void write(String name, String sql) throws Exception {
        Path f = dir.resolve(name);
        Files.createDirectories(f.getParent());
        Files.writeString(f, sql);
    }

    private TestDb fresh(String name) throws Exception {
        dir = Files.createDirectories(tmp.resolve(name));
        return PgServer.get().newDatabase(name);
    }

    /** Each failure scenario of the suite, through plan and run of the packaged CLI, read whole for Flyway's words. */
    @Test
    void noFailureScenarioSpeaksFlyway() throws Exception {
        TestDb drift = fresh("wdrift");
        write("V1__t.sql", "CREATE TABLE t (id int);\n");
        write("V2__u.sql", "CREATE TABLE u (id int);\n");
        assertEquals(0, pgshift(drift, "run").exitCode());
        write("V1__t.sql", "-- edited\nCREATE TABLE t (id int);\n");
        assertEquals(3, pgshift(drift, "plan").exitCode());
        assertEquals(3, pgshift(drift, "run").exitCode());
        assertEquals(6, pgshift(drift, "verify").exitCode(), "drift found by verify is a failed check");
        write("V1__t.sql", "CREATE TABLE t (id int);\n");
        Files.move(dir.resolve("V2__u.sql"), dir.resolve("V2__renamed.sql"));
        assertEquals(3, pgshift(drift, "run").exitCode(), "renamed");
        Files.move(dir.resolve("V2__renamed.sql"), dir.resolve("V2__u.sql"));
        Files.delete(dir.resolve("V1__t.sql"));
        assertEquals(3, pgshift(drift, "plan").exitCode(), "missing");
        assertEquals(3, pgshift(drift, "run").exitCode(), "missing");
        write("V1__t.sql", "CREATE TABLE t (id int);\n");
        write("V1_5__late.sql", "CREATE TABLE late (id int);\n");
        assertEquals(3, pgshift(drift, "plan").exitCode(), "out of order");
        assertEquals(3, pgshift(drift, "run").exitCode(), "out of order");
        Files.delete(dir.resolve("V1_5__late.sql"));
        write("V3__bad name.sql", "SELECT 1;\n");
        write("v4_lower.sql", "SELECT 1;\n");
        assertEquals(3, pgshift(drift, "run").exitCode(), "bad file name");
        Files.delete(dir.resolve("V3__bad name.sql"));
        Files.delete(dir.resolve("v4_lower.sql"));
        write("V2.0__again.sql", "SELECT 1;\n");
        assertEquals(3, pgshift(drift, "plan").exitCode(), "duplicate version");
        Files.delete(dir.resolve("V2.0__again.sql"));
        write("V3__broken.sql", "CREATE TABLE v (id int);\nSELECT no_such_column FROM v;\n");
        assertEquals(5, pgshift(drift, "run").exitCode(), "SQL error");
        Files.delete(dir.resolve("V3__broken.sql"));
        assertEquals(3, pgshift(drift, "rollback", "--to", "1").exitCode(), "no rollback script");
        assertEquals(3, pgshift(drift, "repair", "--accept-checksum", "1", "--reason", "nothing changed").exitCode());

        try (Connection holder = drift.connect(); Statement st = holder.createStatement()) {
            st.execute("select pg_advisory_lock(" + dev.pgshift.db.RunLock.KEY + ")");
            write("V3__more.sql", "CREATE TABLE w (id int);\n");
            assertEquals(75, pgshift(drift, "run", "--lock-wait", "1s").exitCode(), "lock held");
            assertEquals(75, pgshift(drift, "repair", "--rolled-back", "3", "--reason", "x", "--lock-wait", "1s").exitCode());
        }

        TestDb own = fresh("wown");
        write("V1__t.sql", "CREATE TABLE t (id int);\n");
        write("V2__own.sql", "BEGIN;\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;\nBEGIN;\nALTER TABLE nowhere ADD COLUMN b int;\nCOMMIT;\n");
        assertEquals(5, pgshift(own, "run").exitCode(), "failed step");
        assertEquals(0, pgshift(own, "plan").exitCode(), "failed step left: it resumes");
        assertEquals(5, pgshift(own, "run").exitCode(), "failed step left: resumed, and it fails again");

        TestDb tables = fresh("wtables");
        tables.execute("CREATE TABLE users (id int)");
        write("V1__users.sql", "CREATE TABLE users (id int);\n");
        assertEquals(3, pgshift(tables, "plan").exitCode(), "tables without history");
        assertEquals(3, pgshift(tables, "run").exitCode(), "tables without history");

        TestDb sequence = fresh("wsequence");
        sequence.execute("CREATE SEQUENCE orders_seq");
        write("V1__orders.sql", "CREATE SEQUENCE orders_seq;\n");
        Result plan = pgshift(sequence, "plan");
        Result run = pgshift(sequence, "run");
        for (Result r : List.of(plan, run)) {
            assertEquals(3, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("the database already has objects (public.orders_seq) but no migration history"), r.stderr());
        }
        TestDb created = fresh("wcreated");
        write("V1__t.sql", "CREATE TABLE t (id int);\n");
        Result schema = pgshift(created, "run", "--schema", "NewSchema");
        assertEquals(0, schema.exitCode(), schema.toString());
        assertTrue(schema.stderr().contains("creating schema \"NewSchema\" for the migration history (--schema)"), schema.stderr());
        write("V2__u.sql", "CREATE TABLE u (id int);\n");
        Path notADirectory = Files.writeString(tmp.resolve("a-file"), "x");
        assertEquals(4, pgshift(created, "run", "--schema", "NewSchema", "--backup-dir", notADirectory.resolve("b").toString()).exitCode(),
                "backup directory");
        assertEquals(75, pgshift(created, "plan", "--port", "1").exitCode(), "nothing listens");
        assertEquals(26, seen.size(), "every scenario ran: " + seen);
    }

    /**
     * A database with its own history, and -m forgotten: the bundled example set is what pgshift read. It said "apply it
     * with --out-of-order" for each bundled file (following it applies the demo schema) and that missing ones "were
     * bundled"; it says now that the bundled set is all that was given, and to give the database's own with -m.
     */
    @Test
    void forgettingMigrationsOnADatabaseWithItsOwnHistoryPointsAtMinusM() throws Exception {
        for (String version : List.of("1", "99990101000000")) {
            TestDb db = fresh("wforgot" + version.length());
            write("V" + version + "__own.sql", "CREATE TABLE own (id int);\n");
            assertEquals(0, pgshift(db, "run").exitCode());
            for (String command : List.of("plan", "run")) {
                Result r = PgshiftProcess.run(List.of(command, "--connect-timeout", "5s"), db.env());
                assertEquals(3, r.exitCode(), r.toString());
                assertTrue(r.stderr().contains("the migrations given are only those bundled in this pgshift build"), r.stderr());
                assertTrue(r.stderr().contains("give this database's with -m DIR"), r.stderr());
                assertFalse(r.stderr().contains("--bundled=true runs both"), r.stderr());
                if (version.length() > 1) {
                    assertTrue(r.stderr().contains("bundled in this pgshift build (the example set, unless the image was built with its own), "
                            + "and older than the newest applied migration"), r.stderr());
                }
                assertFalse(r.stderr().contains("apply it with --out-of-order, as Prisma would"), r.stderr());
            }
            assertEquals(List.of(version), db.appliedVersions());
        }
    }

    @Test
    void inJsonLogModeEveryLineOnStderrIsJson() throws Exception {
        TestDb db = fresh("jsonlines");
        write("V1__t.sql", "CREATE TABLE t (id int);\n");
        Map<String, String> env = new HashMap<>(db.env());
        env.put("PGSHIFT_LOG_JSON", "true");
        List<String> args = List.of("--bundled=false", "--migrations", dir.toString());
        List<Result> results = new ArrayList<>();
        results.add(PgshiftProcess.run(concat("run", args), env));
        write("V1__t.sql", "-- edited\nCREATE TABLE t (id int);\n");
        results.add(PgshiftProcess.run(concat("run", args), env));
        results.add(PgshiftProcess.run(concat("plan", args), env));
        results.add(PgshiftProcess.run(List.of("run", "--no-such-option"), env));
        results.add(PgshiftProcess.run(List.of("history", "--limit", "0"), env));
        results.add(PgshiftProcess.run(concat("run", List.of("--bundled=false", "--migrations", dir.toString(), "--verbose", "--port", "x")), env));
        assertEquals(List.of(0, 3, 3, 2, 3, 3), results.stream().map(Result::exitCode).toList(), results.toString());
        ObjectMapper json = new ObjectMapper();
        for (Result r : results) {
            assertFalse(r.stderr().isBlank(), r.toString());
            for (String line : r.stderr().split("\n")) {
                if (!line.isBlank()) {
                    assertTrue(line.startsWith("{") && json.readTree(line).has("message"), "not a JSON line: " + line + "\n" + r);
                }
            }
        }
        assertTrue(results.get(1).stderr().contains("pgshift repair --accept-checksum 1"), results.get(1).stderr());
    }

    private static List<String> concat(String command, List<String> args) {
        List<String> a = new ArrayList<>(List.of(command));
        a.addAll(args);
        return a;
    }

    /** --verbose does what --help says on the pipeline commands too: the failure's stack trace with the error, none without. */
    @Test
    void verboseAddsTheStackTraceToAFailedRunsError() throws Exception {
        TestDb db = fresh("verbose");
        write("V1__t.sql", "CREATE TABLE t (id int);\nSELECT 1/0;\n");
        Result plain = pgshift(db, "run", "--backup", "never");
        assertEquals(5, plain.exitCode(), plain.toString());
        assertFalse(plain.stderr().contains("\tat dev.pgshift."), plain.stderr());
        // Not through pgshift(...): a stack trace names Java classes, which the Flyway-wording check refuses elsewhere.
        Result verbose = PgshiftProcess.run(List.of("migrate", "--bundled=false", "--migrations", dir.toString(), "--verbose"), db.env());
        assertEquals(5, verbose.exitCode(), verbose.toString());
        assertTrue(verbose.stderr().contains("V1__t.sql:2"), verbose.stderr());
        assertTrue(verbose.stderr().contains("\tat dev.pgshift."), verbose.stderr());
        assertTrue(verbose.stderr().contains("division by zero"), verbose.stderr());
        Result repair = PgshiftProcess.run(List.of("repair", "--accept-checksum", "9", "--reason", "verbose test", "--bundled=false",
                "--migrations", dir.toString(), "--verbose"), db.env());
        assertEquals(3, repair.exitCode(), repair.toString());
        assertTrue(repair.stderr().contains("\tat dev.pgshift."), repair.stderr());
    }

    @Test
    void outsideKubernetesNoTerminationMessageIsWrittenAndNoErrorLogged() throws Exception {
        TestDb db = fresh("noterm");
        write("V1__t.sql", "CREATE TABLE t (id int);\n");
        Path k8s = Path.of("/dev/termination-log");
        FileTime before = Files.exists(k8s) ? Files.getLastModifiedTime(k8s) : null;
        Result r = pgshift(db, "run");
        assertEquals(0, r.exitCode(), r.toString());
        assertFalse(r.stderr().contains("termination"), r.stderr());
        assertEquals(before, Files.exists(k8s) ? Files.getLastModifiedTime(k8s) : null, "the host's /dev/termination-log is left alone");
        Path explicit = tmp.resolve("term");
        Result given = pgshift(db, "run", "--termination-log", explicit.toString());
        assertEquals(0, given.exitCode(), given.toString());
        assertTrue(Files.readString(explicit).contains("\"outcome\":\"SUCCEEDED\""), "given explicitly, written anywhere");
    }

    @Test
    void historyShowsEachRunInColumnsAlsoFromATableAnOlderPgshiftMade() throws Exception {
        TestDb db = fresh("oldhistory");
        db.execute("CREATE SCHEMA pgshift");
        db.execute("CREATE TABLE pgshift.run_history (run_id uuid primary key, command text not null, started_at timestamptz not null, "
                + "finished_at timestamptz not null, outcome text not null, exit_code int not null, report jsonb not null)");
        db.execute("INSERT INTO pgshift.run_history VALUES ('7f0c3a6e-0000-4000-8000-000000000001', 'run', now() - interval '1 day', "
                + "now() - interval '1 day' + interval '2 seconds', 'SUCCEEDED', 0, '{\"pgshiftVersion\": \"0.0.9\", \"migrations\": []}')");
        write("V1__t.sql", "CREATE TABLE t (id int);\n");
        write("V2__u.sql", "CREATE TABLE u (id int);\n");
        Result run = pgshift(db, "run");
        assertEquals(0, run.exitCode(), run.toString());
        Result history = PgshiftProcess.run(List.of("history"), db.env());
        assertEquals(0, history.exitCode(), history.toString());
        List<String> lines = history.stdout().lines().toList();
        assertEquals(3, lines.size(), history.stdout());
        assertTrue(lines.get(0).matches("started \\(UTC\\) +command +outcome +exit +duration +versions +backup +pgshift +host +user +reason"),
                lines.get(0));
        assertTrue(lines.get(1).contains(" run ") && lines.get(1).contains(" 1,2 ") && lines.get(1).contains(".dump ")
                && lines.get(1).contains(" 0.1.0 "), "versions, backup file, pgshift version: " + lines.get(1));
        assertTrue(lines.get(2).contains(" 0.0.9 ") && lines.get(2).contains(" 2.00s "), "the older row: " + lines.get(2));
        int outcome = lines.get(0).indexOf("outcome");
        assertTrue(lines.stream().allMatch(l -> l.indexOf("SUCCEEDED") == outcome || l.indexOf("outcome") == outcome), history.stdout());
    }
}
