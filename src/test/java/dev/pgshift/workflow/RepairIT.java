package dev.pgshift.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pgshift repair: the day after a failure or a deliberate edit, recorded with who and why, never running migration SQL. */
@org.junit.jupiter.api.Tag(dev.pgshift.testing.OneMajor.TAG) // edits of pgshift's own history rows: not the major
class RepairIT {
    @TempDir
    Path tmp;

    private Path dir;

    private List<String> args(String... more) {
        List<String> a = new ArrayList<>(List.of(more));
        if (PgshiftProcess.readsMigrations(more[0])) {
            a.addAll(List.of("--migrations", dir.toString()));
        }
        return a;
    }

    private Result pgshift(TestDb db, String... args) {
        return PgshiftProcess.run(args(args), db.env());
    }

    @Test
    void aDeliberatelyEditedAppliedFileIsAcceptedWithAReasonAndTheHistorySaysSo() throws Exception {
        TestDb db = PgServer.get().newDatabase("repairsum");
        dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("V1__t.sql"), "CREATE TABLE t (id int);\n");
        Path folder = Files.createDirectories(dir.resolve("20240101000000_p"));
        Files.writeString(folder.resolve("migration.sql"), "CREATE TABLE p (id int);\n");
        db.execute("CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, "
                + "finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, "
                + "started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)");
        Result first = pgshift(db, "run");
        assertEquals(0, first.exitCode(), first.toString());
        String prismaBefore = db.scalar("select checksum from _prisma_migrations where migration_name = '20240101000000_p'");

        Files.writeString(dir.resolve("V1__t.sql"), "-- the table of things\nCREATE TABLE t (id int);\n");
        Files.writeString(folder.resolve("migration.sql"), "-- people\nCREATE TABLE p (id int);\n");
        for (String command : List.of("plan", "run")) {
            Result r = pgshift(db, command);
            assertEquals(3, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("V1__t.sql: changed after it was applied"), r.stderr());
            assertTrue(r.stderr().contains("pgshift repair --accept-checksum 1 --reason '<why>'"), "names the way out: " + r.stderr());
            assertTrue(r.stderr().contains("pgshift repair --accept-checksum 20240101000000.1 --reason '<why>'"), r.stderr());
        }
        String tables = db.catalogSnapshot();

        Result repair = pgshift(db, "repair", "--accept-checksum", "1", "--accept-checksum", "20240101000000.1", "--reason",
                "comments only, reviewed in PR 42");
        assertEquals(0, repair.exitCode(), repair.toString());
        assertTrue(repair.stdout().contains("pgshift repair: SUCCEEDED"), repair.stdout());
        assertTrue(repair.stdout().contains("checksum accepted"), repair.stdout());
        assertTrue(repair.stdout().contains("reason    comments only, reviewed in PR 42"), repair.stdout());
        assertEquals(tables, db.catalogSnapshot(), "repair runs no migration SQL");
        String prismaAfter = db.scalar("select checksum from _prisma_migrations where migration_name = '20240101000000_p'");
        assertFalse(prismaAfter.equals(prismaBefore), "_prisma_migrations carries the accepted checksum too");
        assertEquals(prismaAfter, db.scalar("select encode(sha256(convert_to('-- people' || chr(10) || 'CREATE TABLE p (id int);' "
                + "|| chr(10), 'UTF8')), 'hex')"));

        Result run = pgshift(db, "run");
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals("0", db.scalar("select count(*) from flyway_schema_history where not success"));

        Result history = pgshift(db, "history");
        assertEquals(0, history.exitCode(), history.toString());
        String repairLine = history.stdout().lines().filter(l -> l.contains(" repair ")).findFirst().orElseThrow(() ->
                new AssertionError("history lists the repair: " + history.stdout()));
        assertTrue(repairLine.contains("comments only, reviewed in PR 42"), repairLine);
        assertTrue(repairLine.contains("1,20240101000000.1"), "the versions repaired: " + repairLine);
        assertTrue(repairLine.contains(System.getProperty("user.name")), "who: " + repairLine);
        assertEquals(List.of(List.of("comments only, reviewed in PR 42", System.getProperty("user.name"))),
                db.query("select reason, os_user from pgshift.run_history where command = 'repair'"));
        assertTrue(db.scalar("select host from pgshift.run_history where command = 'repair'") != null, "where it ran");
    }

    /** The failing file of {@link #failedOwnTransactions} as it should have been. */
    private static final String FIXED_OWN = "BEGIN;\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;\nBEGIN;\nALTER TABLE t ADD COLUMN b int;\nCOMMIT;\n";

    /** A file with its own transactions that committed part of itself and then failed: the two ways to resolve it. */
    private TestDb failedOwnTransactions(String name) throws Exception {
        TestDb db = PgServer.get().newDatabase(name);
        dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("V1__t.sql"), "CREATE TABLE t (id int);\n");
        Files.writeString(dir.resolve("V2__own.sql"), "BEGIN;\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;\n"
                + "BEGIN;\nALTER TABLE nowhere ADD COLUMN b int;\nCOMMIT;\n");
        Result failed = pgshift(db, "run");
        assertEquals(5, failed.exitCode(), failed.toString());
        Result again = pgshift(db, "run");
        assertEquals(5, again.exitCode(), "resumed after the first block, the second fails again: " + again);
        assertTrue(again.stderr().contains("pgshift repair --rolled-back 2 --reason '<why>'"), again.stderr());
        assertTrue(again.stderr().contains("pgshift repair --applied 2 --reason '<why>'"), again.stderr());
        assertFalse(again.stderr().contains("delete from"), "no SQL to paste: " + again.stderr());
        return db;
    }

    @Test
    void aFailedEntryResolvedAsRolledBackRunsAgain() throws Exception {
        TestDb db = failedOwnTransactions("resolverb");
        db.execute("ALTER TABLE t DROP COLUMN a"); // the operator undoes what the file committed
        Files.writeString(dir.resolve("V2__own.sql"), FIXED_OWN);
        Result repair = pgshift(db, "repair", "--rolled-back", "2", "--reason", "undid column a by hand");
        assertEquals(0, repair.exitCode(), repair.toString());
        assertTrue(repair.stdout().contains("resolved as rolled back"), repair.stdout());
        assertEquals(List.of("1"), db.appliedVersions());
        Result run = pgshift(db, "run");
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(List.of("1", "2"), db.appliedVersions());
        assertEquals("2", db.scalar("select count(*) from information_schema.columns where table_name = 't' and column_name in ('a', 'b')"));
        Result twice = pgshift(db, "repair", "--rolled-back", "2", "--reason", "again");
        assertEquals(3, twice.exitCode(), twice.toString());
        assertTrue(twice.stderr().contains("repair --rolled-back 2: no failed attempt is recorded for version 2. Nothing was changed."),
                twice.stderr());
    }

    @Test
    void aFailedEntryResolvedAsAppliedIsRecordedWithoutRunning() throws Exception {
        TestDb db = failedOwnTransactions("resolveap");
        db.execute("ALTER TABLE t ADD COLUMN b int"); // the operator finishes the file by hand
        Files.writeString(dir.resolve("V2__own.sql"), FIXED_OWN);
        Result repair = pgshift(db, "repair", "--applied", "2", "--reason", "finished column b by hand");
        assertEquals(0, repair.exitCode(), repair.toString());
        assertTrue(repair.stdout().contains("resolved as applied"), repair.stdout());
        assertEquals(List.of("1", "2"), db.appliedVersions());
        Result run = pgshift(db, "run");
        assertEquals(0, run.exitCode(), "the recorded checksum is the file's as it is now: " + run);
        assertTrue(run.stdout().contains("applied   none"), run.stdout());
        Result unknown = pgshift(db, "repair", "--applied", "7", "--reason", "typo");
        assertEquals(3, unknown.exitCode(), unknown.toString());
        assertTrue(unknown.stderr().contains("repair --applied 7: no migration file has version 7"), unknown.stderr());
    }

    @Test
    void prismasUnfinishedAttemptIsResolvedAsRolledBackAsPrismaWouldAndThenRuns() throws Exception {
        TestDb db = PgServer.get().newDatabase("repairprisma");
        dir = Files.createDirectories(tmp.resolve("p"));
        db.execute("CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, "
                + "finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, "
                + "started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)");
        db.execute("INSERT INTO _prisma_migrations VALUES ('x1', 'abc', NULL, '1_add', 'error', NULL, now(), 0)");
        Files.writeString(Files.createDirectories(dir.resolve("1_add")).resolve("migration.sql"), "CREATE TABLE \"B\" (id int);\n");
        Result refused = pgshift(db, "run");
        assertEquals(3, refused.exitCode(), refused.toString());
        assertTrue(refused.stderr().contains("pgshift repair --rolled-back 1.1 --reason '<why>'"), refused.stderr());
        assertFalse(refused.stderr().contains("update "), "no SQL to paste: " + refused.stderr());
        Result repair = pgshift(db, "repair", "--rolled-back", "1.1", "--reason", "Prisma's attempt left nothing");
        assertEquals(0, repair.exitCode(), repair.toString());
        assertEquals("1", db.scalar("select count(*) from _prisma_migrations where migration_name = '1_add' and rolled_back_at is not null"));
        Result run = pgshift(db, "run");
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(List.of("1.1"), db.appliedVersions());
    }
}
