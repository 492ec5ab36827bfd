package dev.pgshift.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Databases whose history and files do not line up the simple way: tables without a history, a branch merged late. */
@org.junit.jupiter.api.Tag(dev.pgshift.testing.OneMajor.TAG) // how a history and the files line up is pgshift's and Flyway's reading, not the major's
class HistoryEdgesIT {
    @TempDir
    Path tmp;

    private List<String> args(Path dir, String... more) {
        List<String> a = new ArrayList<>(List.of(more));
        if (PgshiftProcess.readsMigrations(more[0])) {
            a.addAll(List.of("--bundled=false", "--migrations", dir.toString()));
        }
        if (PgshiftProcess.backsUp(more[0])) {
            a.addAll(List.of("--backup-dir", tmp.resolve("backups").toString()));
        }
        return a;
    }

    private long backups() throws Exception {
        Path b = tmp.resolve("backups");
        if (!Files.exists(b)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(b)) {
            return s.count();
        }
    }

    /**
     * Applied migrations newer than every file given (the files were not all given, or a newer release migrated the
     * database): plan said nothing and exited 0 (its table read "future success"), run migrated nothing and failed verify
     * with exit 6 after a backup. Both now stop before anything, exit 3, naming the versions and what to do.
     */
    @Test
    void appliedMigrationsNewerThanEveryFileStopPlanAndRunAlike() throws Exception {
        TestDb db = PgServer.get().newDatabase("ahead");
        Path dir = Files.createDirectories(tmp.resolve("ahead"));
        Files.writeString(dir.resolve("V1__a.sql"), "CREATE TABLE a (id int);\n");
        Files.writeString(dir.resolve("V2__b.sql"), "CREATE TABLE b (id int);\n");
        Result first = PgshiftProcess.run(args(dir, "run"), db.env());
        assertEquals(0, first.exitCode(), first.toString());
        long backupsBefore = backups();
        Files.delete(dir.resolve("V2__b.sql"));
        Result plan = PgshiftProcess.run(args(dir, "plan"), db.env());
        Result run = PgshiftProcess.run(args(dir, "run"), db.env());
        for (Result r : List.of(plan, run)) {
            assertEquals(3, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("2 (V2__b.sql): applied, but newer than every migration file given"), r.stderr());
            assertTrue(r.stderr().contains("--migrations"), r.stderr());
        }
        assertEquals(backupsBefore, backups(), "stopped before the backup");
        assertEquals(List.of("1", "2"), db.appliedVersions());
    }

    @Test
    void tablesWithoutAHistoryAreRefusedBeforeAnyBackupWithTheWaysForward() throws Exception {
        TestDb db = PgServer.get().newDatabase("nohistory");
        db.execute("CREATE TABLE users (id int PRIMARY KEY)");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("V1__users.sql"), "CREATE TABLE users (id int PRIMARY KEY);\n");
        Files.writeString(dir.resolve("V2__email.sql"), "ALTER TABLE users ADD COLUMN email text;\n");
        Result plan = PgshiftProcess.run(args(dir, "plan"), db.env());
        Result run = PgshiftProcess.run(args(dir, "run"), db.env());
        for (Result r : List.of(plan, run)) {
            assertEquals(3, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("the database already has tables (public.users) but no migration history"), r.stderr());
            assertTrue(r.stderr().contains("--adopt-through VERSION"), r.stderr());
            assertTrue(!r.stderr().contains("baseline"), r.stderr());
        }
        assertEquals(0, backups(), "refused before the backup");
        assertEquals(List.of(), db.appliedVersions());
        Result adopted = PgshiftProcess.run(args(dir, "run", "--adopt-through", "1"), db.env());
        assertEquals(0, adopted.exitCode(), adopted.toString());
        assertEquals(List.of("1", "2"), db.appliedVersions());
        assertEquals("1", db.scalar("select count(*) from information_schema.columns where table_name = 'users' and column_name = 'email'"));
    }

    @Test
    void aMigrationMergedOutOfOrderIsNamedAsSuchAndAppliedOnRequest() throws Exception {
        TestDb db = PgServer.get().newDatabase("outoforder");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(Files.createDirectories(dir.resolve("20240101000000_init")).resolve("migration.sql"), "CREATE TABLE t (id int);\n");
        Files.writeString(Files.createDirectories(dir.resolve("20240301000000_later")).resolve("migration.sql"), "ALTER TABLE t ADD COLUMN b int;\n");
        assertEquals(0, PgshiftProcess.run(args(dir, "run"), db.env()).exitCode());
        Files.writeString(Files.createDirectories(dir.resolve("20240201000000_branch")).resolve("migration.sql"), "ALTER TABLE t ADD COLUMN a int;\n");
        Result r = PgshiftProcess.run(args(dir, "run"), db.env());
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("20240201000000_branch/migration.sql: version 20240201000000.1 is older than the newest applied "
                + "migration and was never applied (merged out of order): apply it with --out-of-order"), r.stderr());
        assertTrue(!r.stderr().contains("Never edit an applied migration"), r.stderr());
        Result plan = PgshiftProcess.run(args(dir, "plan", "--out-of-order"), db.env());
        assertEquals(0, plan.exitCode(), plan.toString());
        assertTrue(plan.stdout().contains("20240201000000.1"), plan.stdout());
        Result applied = PgshiftProcess.run(args(dir, "run", "--out-of-order"), db.env());
        assertEquals(0, applied.exitCode(), applied.toString());
        assertTrue(applied.stdout().contains("applied   1 migration(s)") && applied.stdout().contains("20240201000000.1"),
                "reported as applied: " + applied.stdout());
        assertEquals("1", db.scalar("select count(*) from information_schema.columns where table_name = 't' and column_name = 'a'"));
    }

    @Test
    void anEmergencyBackupWorksWhateverStateTheFilesAreInAndWritesNothingIntoTheDatabase() throws Exception {
        TestDb db = PgServer.get().newDatabase("emergency");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("V1__t.sql"), "CREATE TABLE t (id int);\n");
        assertEquals(0, PgshiftProcess.run(args(dir, "run"), db.env()).exitCode());
        long before = backups();
        Files.writeString(dir.resolve("V1__t.sql"), "-- edited after it was applied\nCREATE TABLE t (id int);\n");
        Files.writeString(dir.resolve("not a migration name.sql"), "SELECT 1;\n");
        assertEquals(3, PgshiftProcess.run(args(dir, "run"), db.env()).exitCode(), "run refuses both");
        String runsAfterRefusal = db.scalar("select count(*) from pgshift.run_history");
        Result b = PgshiftProcess.run(args(dir, "backup"), db.env());
        assertEquals(0, b.exitCode(), b.toString());
        assertEquals(before + 2, backups(), "one dump and its manifest");
        assertEquals(runsAfterRefusal, db.scalar("select count(*) from pgshift.run_history"), "the backup wrote no history row");
        assertEquals(List.of("1"), db.appliedVersions());
    }

    @Test
    void planStopsWhereRunStopsAndGatesCiWithItsExitCode() throws Exception {
        TestDb db = PgServer.get().newDatabase("gate");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("V1__t.sql"), "CREATE TABLE t (id int);\n");
        assertEquals(10, PgshiftProcess.run(args(dir, "plan", "--exit-code"), db.env()).exitCode(), "pending");
        assertEquals(0, PgshiftProcess.run(args(dir, "run"), db.env()).exitCode());
        assertEquals(0, PgshiftProcess.run(args(dir, "plan", "--exit-code"), db.env()).exitCode(), "up to date");
        Result missing = PgshiftProcess.run(args(dir, "plan", "--rollback", "--to", "0"), db.env());
        assertEquals(3, missing.exitCode(), missing.toString());
        assertTrue(missing.stderr().contains("no rollback script for 1 ("), missing.stderr());
        Files.writeString(dir.resolve("V1__t.sql"), "-- a comment added after it was applied\nCREATE TABLE t (id int);\n");
        Result plan = PgshiftProcess.run(args(dir, "plan"), db.env());
        Result run = PgshiftProcess.run(args(dir, "run"), db.env());
        assertEquals(3, plan.exitCode(), plan.toString());
        assertEquals(3, run.exitCode(), run.toString());
        assertTrue(plan.stderr().contains("V1__t.sql: changed after it was applied"), plan.stderr());
        assertTrue(run.stderr().contains("V1__t.sql: changed after it was applied"), run.stderr());
    }

    @Test
    void aFlywayBaselineIsHistoryAndOnlyWhatFollowsItRuns() throws Exception {
        TestDb db = PgServer.get().newDatabase("baseline");
        db.execute("CREATE TABLE a (id int)");
        db.execute("CREATE TABLE b (id int)");
        db.execute("CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description "
                + "VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) "
                + "NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INT NOT NULL, success BOOLEAN NOT NULL)");
        db.execute("INSERT INTO flyway_schema_history VALUES (1, '2', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, "
                + "'me', now(), 0, true)");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("V1__a.sql"), "CREATE TABLE a (id int);\n");
        Files.writeString(dir.resolve("V2__b.sql"), "CREATE TABLE b (id int);\n");
        Files.writeString(dir.resolve("V3__c.sql"), "CREATE TABLE c (id int);\n");
        Result r = PgshiftProcess.run(args(dir, "run"), db.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("1", db.scalar("select count(*) from pg_class where relname = 'c'"));
        assertEquals("3", db.scalar("select string_agg(version, ',') from flyway_schema_history where type = 'SQL'"));
    }

    @Test
    void aFailedPrismaAttemptThatWasNeverResolvedIsRefusedWithTheWaysOut() throws Exception {
        TestDb db = PgServer.get().newDatabase("prismafailed");
        db.execute("CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, "
                + "finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, "
                + "started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)");
        db.execute("CREATE TABLE \"B\" (id int)"); // what the failed attempt left
        db.execute("INSERT INTO _prisma_migrations VALUES ('x1', 'abc', NULL, '1_add', 'error', NULL, now(), 0)");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(Files.createDirectories(dir.resolve("1_add")).resolve("migration.sql"),
                "CREATE TABLE \"B\" (id int);\nCREATE TABLE \"C\" (id int);\n");
        for (String command : List.of("plan", "run")) {
            Result r = PgshiftProcess.run(args(dir, command), db.env());
            assertEquals(3, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("Prisma's attempt at 1_add failed and was never resolved"), r.stderr());
            assertTrue(r.stderr().contains("--adopt-through 1.1"), r.stderr());
        }
        assertEquals("0", db.scalar("select count(*) from pg_class where relname = 'C'"));
    }
}
