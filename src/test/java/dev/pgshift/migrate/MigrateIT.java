package dev.pgshift.migrate;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pgshift run and migrate against a real server, through the packaged artifact. */
class MigrateIT {
    @TempDir
    Path tmp;

    private static final List<String> BUNDLED = List.of("20240110120000.1", "20240112090000.1", "20240115143000", "20240116100000",
            "20240117090000");

    @Test
    void runOnEmptyDatabaseAppliesTheBundledPlatformSchemaThenNothing() {
        TestDb db = PgServer.get().newDatabase("empty");
        Result first = PgshiftProcess.run(List.of("run"), db.env());
        assertEquals(0, first.exitCode(), first.toString());
        assertEquals(BUNDLED, db.appliedVersions());
        assertTrue(first.stdout().contains("applied   5 migration(s)"), first.stdout());
        assertTrue(first.stdout().contains("outside transaction"), first.stdout());
        // The seed's three indexes exist, were built concurrently and are valid.
        assertEquals(List.of(List.of("idx_characters_style_type", "t"), List.of("idx_characters_user_id", "t"), List.of("idx_users_email", "t")),
                db.query("select c.relname, i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname like 'idx_%' order by 1")
                        .stream().map(r -> List.of(r.get(0), r.get(1))).toList());
        assertEquals("1", db.scalar("select count(*) from pg_constraint where conname = 'chk_daily_quota_positive'"));

        Result second = PgshiftProcess.run(List.of("run"), db.env());
        assertEquals(0, second.exitCode(), second.toString());
        assertTrue(second.stdout().contains("applied   none"), second.stdout());
        assertTrue(second.stderr().contains("nothing pending"), second.stderr());
        assertEquals(BUNDLED, db.appliedVersions());
    }

    @Test
    void failingTransactionalMigrationLeavesTheDatabaseExactlyAsBefore() throws Exception {
        TestDb db = PgServer.get().newDatabase("failing");
        Path dir = copyFixture("failing", tmp.resolve("m"));
        Files.delete(dir.resolve("V2__broken_halfway.sql"));
        List<String> args = args(db, "migrate", dir);
        assertEquals(0, PgshiftProcess.run(args, db.env()).exitCode());
        String before = db.catalogSnapshot();
        List<List<String>> rowsBefore = db.query("select * from accounts order by id");

        copyFixture("failing", dir);
        Result r = PgshiftProcess.run(args, db.env());
        assertEquals(5, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("V2__broken_halfway.sql"), "names the file: " + r.stderr());
        assertTrue(r.stderr().contains("duplicate key"), "says what failed: " + r.stderr());
        assertEquals(before, db.catalogSnapshot());
        assertEquals(rowsBefore, db.query("select * from accounts order by id"));
        assertEquals(List.of("1"), db.appliedVersions());
        assertEquals("0", db.scalar("select count(*) from flyway_schema_history where not success"));
    }

    @Test
    void editedAppliedMigrationIsCaughtBeforeAnythingRuns() throws Exception {
        TestDb db = PgServer.get().newDatabase("drift");
        Path dir = copyFixture("failing", tmp.resolve("m"));
        Files.delete(dir.resolve("V2__broken_halfway.sql"));
        List<String> args = args(db, "migrate", dir);
        assertEquals(0, PgshiftProcess.run(args, db.env()).exitCode());
        Files.writeString(dir.resolve("V1__create_table.sql"), "CREATE TABLE accounts (id bigint PRIMARY KEY);\n");
        Files.writeString(dir.resolve("V3__more.sql"), "CREATE TABLE more (id int);\n");
        Result r = PgshiftProcess.run(args, db.env());
        assertEquals(3, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("checksum"), r.stderr());
        assertEquals("0", db.scalar("select count(*) from pg_tables where tablename = 'more'"));
    }

    static List<String> args(TestDb db, String command, Path dir) {
        List<String> args = new ArrayList<>(List.of(command, "--bundled=false", "--migrations", dir.toString()));
        return args;
    }

    static Path copyFixture(String name, Path target) throws Exception {
        Path src = Path.of("src/test/resources", name);
        Files.createDirectories(target);
        try (var files = Files.walk(src)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path dest = target.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return target;
    }
}
