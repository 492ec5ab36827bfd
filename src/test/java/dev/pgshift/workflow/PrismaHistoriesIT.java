package dev.pgshift.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.testing.Fixtures;
import dev.pgshift.testing.PgClients;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prisma histories as they exist in the wild (src/test/resources/prisma-histories): a baselined {@code 0_init} with
 * timestamped folders (two sharing one timestamp) and Prisma's own BEGIN/COMMIT enum change; {@code 01_}…{@code 12_}
 * numbered folders checked out with CRLF and adopted from a ledger an old Prisma wrote (unpadded checksum); a
 * {@code ?schema=app} project. Each is applied by pgshift and by psql file by file, and the two schemas must be equal
 * ({@code pg_dump --schema-only}); each is adopted from a _prisma_migrations filled as Prisma fills it, without running a
 * statement; then rolled back and run again, with _prisma_migrations kept as Prisma would keep it.
 */
class PrismaHistoriesIT {
    @TempDir
    Path tmp;

    /** A history from the test resources, optionally as a Windows checkout leaves it (CRLF). */
    private Path history(String name, boolean crlf) throws IOException {
        Path from = Path.of("src/test/resources/prisma-histories", name);
        Path to = tmp.resolve(name + (crlf ? "-crlf" : ""));
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                Files.createDirectories(target.getParent());
                String text = Files.readString(f);
                Files.writeString(target, crlf ? text.replace("\n", "\r\n") : text);
            }
        }
        return to;
    }

    /** Prisma's folders in the order Prisma applies them: by name. */
    private static List<Path> folders(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.exists(p.resolve("migration.sql"))).sorted().toList();
        }
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    /** The sha256 as Prisma wrote it before mid-2021: each byte in hex without zero padding. */
    private static String unpadded(String s) throws Exception {
        StringBuilder b = new StringBuilder();
        for (byte x : MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8))) {
            b.append(Integer.toHexString(x & 0xff));
        }
        return b.toString();
    }

    private static String run(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), command + "\n" + out);
        return out;
    }

    /** What `prisma migrate deploy` does to a database: each folder's SQL in name order (psql here), on `searchPath`. */
    private static void applyWithPsql(TestDb db, Path dir, String searchPath) throws Exception {
        Map<String, String> env = new LinkedHashMap<>(db.env());
        if (searchPath != null) {
            db.execute("CREATE SCHEMA IF NOT EXISTS " + searchPath);
            env.put("PGOPTIONS", "-c search_path=" + searchPath);
        }
        for (Path folder : folders(dir)) {
            run(List.of("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", folder.resolve("migration.sql").toString()), env);
        }
    }

    /** _prisma_migrations as Prisma creates and fills it, one finished row a folder, with the checksums of the LF files Prisma applied. */
    private static void prismaLedger(TestDb db, Path lfDir, String schema, String unpaddedFolder) throws Exception {
        db.execute("CREATE TABLE " + schema + "._prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, "
                + "finished_at TIMESTAMPTZ, migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at TIMESTAMPTZ, "
                + "started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_steps_count INTEGER NOT NULL DEFAULT 0)");
        for (Path folder : folders(lfDir)) {
            String sql = Files.readString(folder.resolve("migration.sql"));
            String name = folder.getFileName().toString();
            String checksum = name.equals(unpaddedFolder) ? unpadded(sql) : sha256(sql);
            db.execute("INSERT INTO " + schema + "._prisma_migrations VALUES ('" + UUID.randomUUID() + "', '" + checksum + "', now(), '"
                    + name + "', NULL, NULL, now(), 1)");
        }
    }

    /** The schema as pg_dump writes it, without pgshift's and Prisma's bookkeeping tables. */
    private static String schemaOf(TestDb db, String schema) throws Exception {
        String dump = run(List.of(PgClients.pgDump().toString(), "--schema-only", "--no-owner", "--no-privileges",
                "-n", schema, "-T", schema + ".flyway_schema_history", "-T", schema + "._prisma_migrations"), db.env());
        return dump.lines().filter(l -> !l.startsWith("\\restrict") && !l.startsWith("\\unrestrict") && !l.startsWith("--")).toList()
                .toString();
    }

    private static List<String> args(Path dir, String... more) {
        List<String> a = Fixtures.args(more[0], dir, java.util.Arrays.copyOfRange(more, 1, more.length));
        if (PgshiftProcess.backsUp(more[0])) {
            a.add("--backup=never");
        }
        return a;
    }

    private static String ledger(TestDb db, String schema, String folder) {
        return db.scalar("select string_agg((finished_at is not null) || '/' || (rolled_back_at is not null) || '/' || applied_steps_count "
                + "|| '/' || checksum, ' ' order by started_at, finished_at) from " + schema + "._prisma_migrations where migration_name = '"
                + folder + "'");
    }

    @Test
    void aBaselinedHistoryAppliesLikePsqlIsAdoptedRolledBackAndRunAgain() throws Exception {
        Path dir = history("zero-init", false);
        TestDb fresh = PgServer.get().newDatabase("zinit");
        Result r = PgshiftProcess.run(args(dir, "run"), fresh.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(List.of("0.1", "20240301100000.1", "20240301100000.2", "20240315120000.1", "20240320090000.1"), fresh.appliedVersions());
        TestDb psql = PgServer.get().newDatabase("zinitpsql");
        applyWithPsql(psql, dir, null);
        assertEquals(schemaOf(psql, "public"), schemaOf(fresh, "public"), "pgshift and psql leave the same schema");

        prismaLedger(psql, dir, "public", null);
        String before = schemaOf(psql, "public");
        Result adopt = PgshiftProcess.run(args(dir, "run"), psql.env());
        assertEquals(0, adopt.exitCode(), adopt.toString());
        assertEquals(5, psql.appliedVersions().size());
        assertEquals(before, schemaOf(psql, "public"), "adoption runs no statement");
        assertEquals("5", psql.scalar("select count(*) from _prisma_migrations"), "adoption writes no ledger row");

        Result back = PgshiftProcess.run(args(dir, "rollback", "--to", "20240315120000.1"), psql.env());
        assertEquals(0, back.exitCode(), back.toString());
        assertEquals("0", psql.scalar("select count(*) from information_schema.columns where table_name = 'User' and column_name = 'bio'"));
        assertTrue(ledger(psql, "public", "20240320090000_add_bio").startsWith("true/true/1/"), "marked rolled back, as prisma migrate resolve would");

        Result again = PgshiftProcess.run(args(dir, "run"), psql.env());
        assertEquals(0, again.exitCode(), "the rolled-back folder runs for real, it is not adopted again: " + again);
        assertEquals("1", psql.scalar("select count(*) from information_schema.columns where table_name = 'User' and column_name = 'bio'"));
        String bio = Files.readString(dir.resolve("20240320090000_add_bio/migration.sql"));
        assertEquals(ledger(psql, "public", "20240320090000_add_bio").split(" ")[0] + " true/false/1/" + sha256(bio),
                ledger(psql, "public", "20240320090000_add_bio"), "a new finished row, as Prisma writes it");
        assertEquals(schemaOf(fresh, "public"), schemaOf(psql, "public"));
    }

    @Test
    void numberedFoldersInACrlfCheckoutAreAdoptedFromAnOldPrismaLedgerAndKeptTrue() throws Exception {
        Path lf = history("numbered", false);
        Path crlf = history("numbered", true);
        TestDb fresh = PgServer.get().newDatabase("numbered");
        Result r = PgshiftProcess.run(args(lf, "run"), fresh.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("1.1", fresh.appliedVersions().get(0));
        assertEquals("12.1", fresh.appliedVersions().get(11));
        TestDb psql = PgServer.get().newDatabase("numberedpsql");
        applyWithPsql(psql, lf, null);
        assertEquals(schemaOf(psql, "public"), schemaOf(fresh, "public"));

        prismaLedger(psql, lf, "public", "01_init");
        String before = schemaOf(psql, "public");
        Result adopt = PgshiftProcess.run(args(crlf, "run"), psql.env());
        assertEquals(0, adopt.exitCode(), "CRLF files and an unpadded checksum are what Prisma accepts: " + adopt);
        assertEquals(12, psql.appliedVersions().size());
        assertEquals(before, schemaOf(psql, "public"));

        Path added = Files.createDirectories(crlf.resolve("13_note"));
        Files.writeString(added.resolve("migration.sql"), "-- AlterTable\r\nALTER TABLE \"Account\" ADD COLUMN \"note\" TEXT;\r\n");
        Files.writeString(added.resolve("down.sql"), "ALTER TABLE \"Account\" DROP COLUMN \"note\";\r\n");
        assertEquals(0, PgshiftProcess.run(args(crlf, "run"), psql.env()).exitCode());
        assertEquals("true/false/1/" + sha256(Files.readString(added.resolve("migration.sql"))), ledger(psql, "public", "13_note"));
        assertEquals(0, PgshiftProcess.run(args(crlf, "rollback", "--to", "12.1"), psql.env()).exitCode());
        assertTrue(ledger(psql, "public", "13_note").startsWith("true/true/1/"));
        assertEquals(0, PgshiftProcess.run(args(crlf, "run"), psql.env()).exitCode());
        assertEquals("1", psql.scalar("select count(*) from information_schema.columns where table_name = 'Account' and column_name = 'note'"));
    }

    @Test
    void aSchemaInTheUrlIsWherePrismaPutItsTablesAndItsLedger() throws Exception {
        Path dir = history("app-schema", false);
        TestDb fresh = PgServer.get().newDatabase("appschema");
        Map<String, String> env = new LinkedHashMap<>(fresh.env());
        env.put("PGSHIFT_URL", "postgresql://" + fresh.user() + "@localhost:" + PgServer.get().port() + "/" + fresh.name() + "?schema=app");
        Result r = PgshiftProcess.run(args(dir, "run"), env);
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("app", fresh.scalar("select relnamespace::regnamespace::text from pg_class where relname = 'Item'"),
                "?schema=app is the session's search_path, as Prisma makes it");
        assertEquals("4", fresh.scalar("select count(*) from app.flyway_schema_history where success and version is not null"));
        TestDb psql = PgServer.get().newDatabase("appschemapsql");
        applyWithPsql(psql, dir, "app");
        assertEquals(schemaOf(psql, "app"), schemaOf(fresh, "app"));

        prismaLedger(psql, dir, "app", null);
        Map<String, String> prismaEnv = new LinkedHashMap<>(psql.env());
        prismaEnv.put("PGSHIFT_URL", "postgresql://" + psql.user() + "@localhost:" + PgServer.get().port() + "/" + psql.name() + "?schema=app");
        String before = schemaOf(psql, "app");
        Result adopt = PgshiftProcess.run(args(dir, "run"), prismaEnv);
        assertEquals(0, adopt.exitCode(), adopt.toString());
        assertEquals("4", psql.scalar("select count(*) from app.flyway_schema_history where success and version is not null"));
        assertEquals(before, schemaOf(psql, "app"), "adopted from app._prisma_migrations, nothing ran");
    }

    /**
     * papermark's history mixes 14-, 12- and 8-digit prefixes; Prisma applies its folders in name order (the 12-digit
     * folder adds a column to the table the 14-digit one before it makes). pgshift refused it ("ambiguous migration
     * order ... Rename one"); renaming an applied folder made it run again and fail. Now: name order, the same schema as
     * psql's, adoption; and a folder renamed after Prisma applied it is named by plan.
     */
    @Test
    void foldersWithMixedPrefixLengthsRunInNameOrderAndARenamedAppliedFolderIsNamed() throws Exception {
        Path dir = history("mixed-prefixes", false);
        TestDb fresh = PgServer.get().newDatabase("mixedprefix");
        Result r = PgshiftProcess.run(args(dir, "run"), fresh.env());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(List.of("20230912150657.1", "20230912150657.2", "20231015000000.1", "20231015000000.2"), fresh.appliedVersions());
        TestDb psql = PgServer.get().newDatabase("mixedprefixpsql");
        applyWithPsql(psql, dir, null);
        assertEquals(schemaOf(psql, "public"), schemaOf(fresh, "public"));

        prismaLedger(psql, dir, "public", null);
        Path applied = dir.resolve("202310122339_NewColumnInLinkTable");
        Path renamed = dir.resolve("20231012233900_NewColumnInLinkTable");
        Files.move(applied, renamed);
        Result before = PgshiftProcess.run(args(dir, "plan"), psql.env());
        assertTrue(before.all().contains("_prisma_migrations records 202310122339_NewColumnInLinkTable as applied, but no migration "
                + "folder has that name: if the folder was renamed, give it its old name back"), before.toString());
        assertTrue(!before.all().contains("Rename"), "no advice to rename: " + before);
        Files.move(renamed, applied);

        Result adopt = PgshiftProcess.run(args(dir, "run"), psql.env());
        assertEquals(0, adopt.exitCode(), adopt.toString());
        assertEquals(4, psql.appliedVersions().size());
        Files.move(applied, renamed);
        Result after = PgshiftProcess.run(args(dir, "plan"), psql.env());
        assertEquals(3, after.exitCode(), after.toString());
        assertTrue(after.stderr().contains(renamed.getFileName() + "/migration.sql: has the name of 20230912150657.2 (V20230912150657.2__"
                + "NewColumnInLinkTable.sql), which was applied and whose file is gone: if it was renamed after it was applied, give it back "
                + "the name it was applied under"), after.toString());
        assertTrue(!after.all().contains("apply it with --out-of-order"), "--out-of-order would run it again: " + after);
        Files.move(renamed, applied);

        // The newest applied folder renamed to sort first: the applied one is now "newer than every file"; still a rename.
        Files.move(dir.resolve("20241231_expires"), dir.resolve("0_expires"));
        Result newest = PgshiftProcess.run(args(dir, "plan"), psql.env());
        assertEquals(3, newest.exitCode(), newest.toString());
        assertTrue(newest.stderr().contains("0_expires/migration.sql: has the name of 20231015000000.2"), newest.toString());
        assertTrue(!newest.all().contains("apply it with --out-of-order") && !newest.all().contains("were bundled in pgshift"), newest.toString());
        Files.move(dir.resolve("0_expires"), dir.resolve("20241231_expires"));

        // Adopting a database where the last folder Prisma applied was renamed: it would run again (a second column, or
        // doubled data); pgshift stops, naming the row and the folder, and changes nothing.
        TestDb again = PgServer.get().newDatabase("mixedprefixagain");
        applyWithPsql(again, dir, null);
        prismaLedger(again, dir, "public", null);
        Files.move(dir.resolve("20241231_expires"), dir.resolve("20250101_expires"));
        String schemaBefore = schemaOf(again, "public");
        Result adoptRenamed = PgshiftProcess.run(args(dir, "run"), again.env());
        assertEquals(3, adoptRenamed.exitCode(), adoptRenamed.toString());
        assertTrue(adoptRenamed.stderr().contains("_prisma_migrations records 20241231_expires as applied, but no migration folder has that "
                + "name") && adoptRenamed.stderr().contains("pgshift stops rather than run 20250101_expires"), adoptRenamed.toString());
        assertEquals(schemaBefore, schemaOf(again, "public"), "nothing ran");
        assertEquals(List.of(), again.appliedVersions());
    }
}
