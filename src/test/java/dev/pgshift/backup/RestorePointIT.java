package dev.pgshift.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgshift.Json;
import dev.pgshift.report.ReportSchema;
import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.PgClients;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * --backup-method restore-point against a server of the test's own that archives its WAL into a directory
 * (archive_command cp), on every major: the restore point is made and proven archived before anything migrates; a
 * second server recovered from a pg_basebackup taken earlier, with the archive and recovery_target_name set to
 * pgshift's name, holds the schema before the migration and the data as it was; the failures (no grant, a standby,
 * archiving slow or failing) exit 4 with nothing migrated.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RestorePointIT {
    @TempDir
    static Path tmp;

    private Path archive;
    private PgServer server;
    private TestDb db;
    private Path migrations;
    private static final String CHARACTERS = "\"Guild Hall\".\"Characters\"";
    private static final String LONG = "Guild Roster Of Every Adventurer Who Ever Joined, Kept For The Ages";

    @BeforeAll
    void start() throws Exception {
        archive = Files.createDirectories(tmp.resolve("wal-archive"));
        Files.setPosixFilePermissions(archive, PosixFilePermissions.fromString("rwxrwxrwx")); // the server's own user writes it
        // pg_ctl hands the server's settings to a shell as one string, and they would override ALTER SYSTEM: the command
        // (with spaces) is set afterwards; until then WAL files wait for it
        server = PgServer.start(0, tmp.resolve("primary"), Map.of("archive_mode", "on", "wal_level", "replica"));
        archiveCommand("test ! -f " + archive + "/%f && cp %p " + archive + "/%f");
        db = server.newDatabase("restore_point");
        // a schema off the search_path, quoted mixed-case names, one past 63 bytes (PostgreSQL keeps its first 63)
        migrations = Fixtures.write(tmp.resolve("m"), "V1__characters.sql", "CREATE SCHEMA \"Guild Hall\";\n"
                + "CREATE TABLE " + CHARACTERS + " (id int PRIMARY KEY, \"Name\" text NOT NULL);\n"
                + "INSERT INTO " + CHARACTERS + " SELECT g, 'hero ' || g FROM generate_series(1, 100) g;\n");
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private Result pgshift(String command, String... more) {
        List<String> args = new ArrayList<>(PgshiftProcess.readsMigrations(command) ? Fixtures.args(command, migrations) : List.of(command));
        args.addAll(List.of(more));
        return PgshiftProcess.run(args, db.env());
    }

    @Test
    @Order(1)
    void withoutTheGrantItRefusesNamingTheGrantAndMigratesNothing() throws Exception {
        Result r = pgshift("migrate", "--backup-method", "restore-point");
        assertEquals(4, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("connected to database " + db.name() + " (a function's grants belong to each database), "
                + "GRANT EXECUTE ON FUNCTION pg_catalog.pg_create_restore_point(text) TO \"" + db.user() + "\";"), r.stderr());
        assertTrue(r.stderr().contains("Nothing was migrated"), r.stderr());
        assertFalse(tableExists(db, CHARACTERS), "nothing may be migrated");
        Result rehearse = pgshift("run", "--rehearse", "--backup-method", "restore-point");
        assertEquals(3, rehearse.exitCode(), rehearse.toString());
        assertTrue(rehearse.stderr().contains("rehearse with --backup-method dump"), rehearse.stderr());
        Result verify = pgshift("backup", "--verify-restore", "--backup-method", "restore-point");
        assertEquals(3, verify.exitCode(), verify.toString());
        assertTrue(verify.stderr().contains("turn off --verify-restore"), verify.stderr());
        assertFalse(tableExists(db, CHARACTERS), "nothing may be migrated");
    }

    @Test
    @Order(2)
    void aRestorePointRecoveredFromTheArchiveHoldsTheDatabaseAsItWasBeforeTheMigration() throws Exception {
        try (Connection c = server.admin(db.name()); Statement st = c.createStatement()) {
            st.execute("grant execute on function pg_create_restore_point(text) to " + db.user());
            st.execute("grant execute on function pg_switch_wal() to " + db.user());
        }
        // auto with a threshold below the database's size: a restore point, and no dump in the backup directory
        Path dumps = tmp.resolve("dumps");
        Result first = pgshift("migrate", "--backup-method", "auto", "--restore-point-above", "1kB", "--backup-dir", dumps.toString());
        assertEquals(0, first.exitCode(), first.toString());
        assertTrue(first.stdout().contains("backup    restore point pgshift/"), first.stdout());
        assertFalse(Files.exists(dumps) && Files.list(dumps).findAny().isPresent(), "a restore point writes no file");

        Path base = tmp.resolve("base");
        Process bb = new ProcessBuilder(PgClients.pgBasebackup().toString(), "-D", base.toString(), "-h", "127.0.0.1", "-p",
                String.valueOf(server.port()), "-U", "postgres", "-c", "fast", "-X", "stream").redirectErrorStream(true).start();
        String said = new String(bb.getInputStream().readAllBytes());
        assertTrue(bb.waitFor(120, TimeUnit.SECONDS) && bb.exitValue() == 0, "pg_basebackup: " + said);

        db.execute("INSERT INTO " + CHARACTERS + " SELECT g, 'late hero ' || g FROM generate_series(101, 150) g"); // after the base backup: from the archive
        Fixtures.write(migrations, "V2__level.sql", "ALTER TABLE " + CHARACTERS + " ADD COLUMN \"Level\" int NOT NULL DEFAULT 1;\n"
                + "UPDATE " + CHARACTERS + " SET \"Name\" = upper(\"Name\");\nCREATE TABLE \"Guild Hall\".\"" + LONG + "\" (id int PRIMARY KEY);\n");
        Path report = tmp.resolve("report.json");
        Result r = pgshift("migrate", "--backup-method", "restore-point", "--report-file", report.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(tableExists(db, "\"Guild Hall\".\"" + LONG.substring(0, 63) + "\""), "V2 made its table, named by its first 63 bytes");
        db.execute("INSERT INTO " + CHARACTERS + " (id, \"Name\") VALUES (151, 'after the migration')");

        String json = Files.readString(report);
        ReportSchema.assertValid(json);
        JsonNode backup = Json.MAPPER.readTree(json).get("backup");
        assertEquals("restore-point", backup.get("method").asText());
        assertTrue(backup.get("file").isNull(), backup.toString());
        assertEquals("1", backup.get("schemaVersionBefore").asText());
        JsonNode point = backup.get("restorePoint");
        String name = point.get("name").asText();
        assertTrue(name.matches("pgshift/[0-9a-f]{8}/1"), name);
        String walFile = point.get("walFile").asText();
        assertTrue(Files.exists(archive.resolve(walFile)), "the restore point's WAL file " + walFile + " is in the archive");
        assertEquals(1, point.get("timeline").asInt());
        try (Connection c = server.admin("postgres"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select system_identifier::text, pg_walfile_name('" + point.get("lsn").asText() + "'::pg_lsn) "
                        + "from pg_control_system()")) {
            rs.next();
            assertEquals(rs.getString(1), point.get("systemIdentifier").asText());
            assertEquals(rs.getString(2), walFile);
        }
        assertTrue(r.stdout().contains("pgshift restore --show-recipe --restore-point " + name), r.stdout());

        Result history = pgshift("history");
        assertTrue(history.stdout().contains("restore point " + name), history.toString());
        Result recipe = pgshift("restore", "--show-recipe");
        assertEquals(0, recipe.exitCode(), recipe.toString());
        assertTrue(recipe.stdout().contains("recovery_target_name = '" + name + "'"), recipe.stdout());
        assertTrue(recipe.stdout().contains("targetLSN: \"" + point.get("lsn").asText() + "\""), recipe.stdout());
        assertTrue(recipe.stdout().contains("--type=lsn --target='" + point.get("lsn").asText() + "'"), recipe.stdout());
        Result unknown = pgshift("restore", "--show-recipe", "--restore-point", "pgshift/none/0");
        assertEquals(3, unknown.exitCode(), unknown.toString());
        assertTrue(unknown.stderr().contains("no restore point named 'pgshift/none/0'"), unknown.stderr());
        assertTrue(unknown.stderr().contains("the newest there: " + name + ", pgshift/"), unknown.stderr());

        // Recovery: the base backup, the archive, pgshift's name as the target; paused there, so the copy is read-only
        Files.writeString(base.resolve("recovery.signal"), "");
        Files.writeString(base.resolve("postgresql.auto.conf"), "\nrestore_command = 'cp " + archive + "/%f %p'\nrecovery_target_name = '"
                + name + "'\nrecovery_target_action = 'pause'\n", StandardOpenOption.APPEND);
        PgServer restored = PgServer.start(0, base);
        try {
            awaitPaused(restored);
            try (Connection c = restored.admin(db.name()); Statement st = c.createStatement()) {
                assertEquals(150, count(st, "select count(*) from " + CHARACTERS), "the rows written before the restore point, no later one");
                assertEquals(0, count(st, "select count(*) from " + CHARACTERS + " where \"Name\" <> lower(\"Name\")"), "the migration's UPDATE is not in it");
                assertEquals(0, count(st, "select count(*) from information_schema.columns where table_schema = 'Guild Hall' and table_name = "
                        + "'Characters' and column_name = 'Level'"));
                assertEquals(0, count(st, "select count(*) from pg_class where relname = '" + LONG.substring(0, 63) + "'"));
                assertEquals(1, count(st, "select max(version::int) from flyway_schema_history where success"));
            }
            // the copy, still in recovery, is a standby to pgshift: refused
            Map<String, String> env = new java.util.LinkedHashMap<>(db.env());
            env.put("PGPORT", String.valueOf(restored.port()));
            Result standby = PgshiftProcess.run(new ArrayList<>(List.of("backup", "--backup-method", "restore-point")), env);
            assertEquals(4, standby.exitCode(), standby.toString());
            assertTrue(standby.stderr().contains("the server is a standby"), standby.stderr());
            Fixtures.write(migrations, "V3__quests.sql", "CREATE TABLE quests (id int PRIMARY KEY);\n");
            Result migrate = PgshiftProcess.run(Fixtures.args("migrate", migrations, "--backup-method", "auto", "--restore-point-above", "1kB"), env);
            assertEquals(3, migrate.exitCode(), migrate.toString());
            assertTrue(migrate.stderr().contains("is a standby (pg_is_in_recovery() is true): it cannot be migrated"), migrate.stderr());
        } finally {
            restored.stop();
        }
    }

    @Test
    @Order(3)
    void pgshiftBackupRecordsItsRestorePointSoThatTheRecipeFindsIt() throws Exception {
        Result r = pgshift("backup", "--backup-method", "restore-point");
        assertEquals(0, r.exitCode(), r.toString());
        String name = r.stdout().replaceFirst("(?s).*backup    restore point (\\S+) at LSN.*", "$1");
        assertTrue(name.startsWith("pgshift/"), r.stdout());
        Result recipe = pgshift("restore", "--show-recipe");
        assertEquals(0, recipe.exitCode(), recipe.toString());
        assertTrue(recipe.stdout().startsWith("Restore point " + name + " of database " + db.name()), recipe.stdout());
    }

    @Test
    @Order(3)
    void autoBelowTheThresholdDumps() throws Exception {
        Result r = pgshift("backup", "--backup-method", "auto", "--backup-dir", tmp.resolve("auto").toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stdout().matches("(?s).*backup    \\S+\\.dump \\(.*"), r.stdout());
        assertTrue(r.stderr().contains("not above --restore-point-above 10 GB"), r.stderr());
    }

    @Test
    @Order(4)
    void archivingThatFailsOrDoesNotCatchUpExits4AndMigratesNothing() throws Exception {
        Fixtures.write(migrations, "V3__quests.sql", "CREATE TABLE quests (id int PRIMARY KEY);\n");
        String copy = "test ! -f " + archive + "/%f && cp %p " + archive + "/%f";
        // broken after the last success: the preflight passes, the archiver fails three times on the point's file
        archiveCommand("false");
        long started = System.nanoTime();
        Result broken = pgshift("migrate", "--backup-method", "restore-point", "--archive-wait", "5m");
        assertEquals(4, broken.exitCode(), broken.toString());
        assertTrue(broken.stderr().contains("the archiver failed to archive it 3 times since the restore point was made"), broken.stderr());
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(60).toNanos(), "not the whole --archive-wait");
        assertFalse(tableExists(db, "quests"));
        // now pg_stat_archiver shows the failure: refused before a restore point is made
        Result failing = pgshift("migrate", "--backup-method", "restore-point");
        assertEquals(4, failing.exitCode(), failing.toString());
        assertTrue(failing.stderr().contains("WAL archiving is failing: pg_stat_archiver's"), failing.stderr());
        assertFalse(tableExists(db, "quests"));

        archiveCommand(copy); // the archiver tries again on the reload and succeeds
        awaitArchiver(false);
        archiveCommand("sleep 3; false"); // slow: nothing archived within the bound
        started = System.nanoTime();
        Result slow = pgshift("migrate", "--backup-method", "restore-point", "--archive-wait", "1s");
        assertEquals(4, slow.exitCode(), slow.toString());
        assertTrue(slow.stderr().contains("WAL archiving did not catch up within 1s (--archive-wait)"), slow.stderr());
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(30).toNanos());
        assertFalse(tableExists(db, "quests"));
        archiveCommand(copy);
    }

    private void awaitArchiver(boolean failingState) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (failing() != failingState) {
            assertTrue(System.nanoTime() < deadline, "pg_stat_archiver does not show archiving " + (failingState ? "failing" : "working again"));
            Thread.sleep(200);
        }
    }

    private void archiveCommand(String command) throws Exception {
        try (Connection c = server.admin("postgres"); Statement st = c.createStatement()) {
            st.execute("alter system set archive_command = '" + command + "'");
            st.execute("select pg_reload_conf()");
        }
        Thread.sleep(300); // the archiver reads it
    }

    private boolean failing() throws Exception {
        try (Connection c = server.admin("postgres"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select last_failed_time > coalesce(last_archived_time, '-infinity') from pg_stat_archiver")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static void awaitPaused(PgServer restored) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try (Connection c = restored.admin("postgres"); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("select pg_get_wal_replay_pause_state()")) {
                rs.next();
                if (rs.getString(1).equals("paused")) {
                    return;
                }
            }
            assertTrue(System.nanoTime() < deadline, "recovery did not reach the restore point");
            Thread.sleep(200);
        }
    }

    private static long count(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static boolean tableExists(TestDb db, String table) throws Exception {
        try (Connection c = db.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select to_regclass('" + table + "')")) {
            rs.next();
            return rs.getString(1) != null;
        }
    }
}
