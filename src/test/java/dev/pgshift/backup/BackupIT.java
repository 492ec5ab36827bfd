package dev.pgshift.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgshift.testing.OneMajor;
import dev.pgshift.testing.PgClients;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.PgshiftProcess.Result;
import dev.pgshift.testing.PgshiftProcess;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups against the suite's server (14 to 18, -Dpg.version) with a pg_dump of its major or newer (PgClients), and the
 * version gate: an older pg_dump is refused. What a backup does with its files (names, retention, leftovers, kills,
 * full volumes) does not depend on the server's major: those tests are tagged {@link OneMajor#TAG}.
 */
class BackupIT {
    @TempDir
    Path tmp;

    private Path migrations;
    private Path backups;

    private Map<String, String> env(TestDb db) {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("PGSHIFT_BACKUP_DIR", backups.toString());
        env.put("PGSHIFT_BUNDLED", "false");
        env.put("PGSHIFT_MIGRATIONS", migrations.toString());
        return env;
    }

    private TestDb setUp(String name) throws Exception {
        migrations = Files.createDirectories(tmp.resolve("m"));
        backups = tmp.resolve("backups");
        Files.copy(Path.of("src/test/resources/backup/V1__accounts.sql"), migrations.resolve("V1__accounts.sql"));
        TestDb db = PgServer.get().newDatabase(name);
        Result r = PgshiftProcess.run(List.of("migrate", "--backup", "never"), env(db));
        assertEquals(0, r.exitCode(), r.toString());
        return db;
    }

    /**
     * A pg_dump in {@code bin} that runs {@code body} (with $out set to the --file argument) instead of a plain dump;
     * --version is passed through, and pg_restore beside it is the real one.
     */
    private static Path wrappedPgDump(Path bin, String body) throws Exception {
        Path script = bin.resolve("pg_dump");
        Files.writeString(script, "#!/bin/sh\n"
                + "case \"$1\" in --version) exec \"" + PgClients.pgDump() + "\" --version;; esac\n"
                + "for a in \"$@\"; do case \"$a\" in --file=*) out=\"${a#--file=}\";; esac; done\n"
                + body);
        script.toFile().setExecutable(true);
        realPgRestoreIn(bin);
        return script;
    }

    /** pg_restore beside a wrapping pg_dump: the real one (a script, not a link JUnit would warn about when cleaning up). */
    private static void realPgRestoreIn(Path bin) throws Exception {
        Path script = Files.writeString(bin.resolve("pg_restore"), "#!/bin/sh\nexec \"" + PgClients.pgRestore() + "\" \"$@\"\n");
        script.toFile().setExecutable(true);
    }

    /** Skips the rest of a test that restores where the suite's pg_restore cannot restore into the server (16). */
    private static void assumeRestorable(TestDb db) {
        int server = db.server().major();
        assumeTrue(PgClients.restoresInto(server), PgClients.noRestoreReason(server));
    }

    private List<String> files() throws Exception {
        if (!Files.exists(backups)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(backups)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private List<String> completeDumps() throws Exception {
        return files().stream().filter(f -> f.endsWith(".dump") && !f.startsWith(".")).toList();
    }

    @Test
    void roundTripRestoresTheRowsFromBeforeADestructiveMigration() throws Exception {
        TestDb db = setUp("roundtrip");
        db.execute("UPDATE accounts SET balance = balance + 1 WHERE id <= 10");
        List<List<String>> before = db.query("select * from accounts order by id");
        Files.writeString(migrations.resolve("V2__destructive.sql"), "DELETE FROM accounts WHERE id % 2 = 0;\nALTER TABLE accounts DROP COLUMN owner;\n");

        Result run = PgshiftProcess.run(List.of("run"), env(db));
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(1, completeDumps().size(), files().toString());
        String dump = completeDumps().get(0);
        assertTrue(dump.matches("\\d{8}T\\d{6}\\.\\d{3}Z_" + db.name() + "_[0-9a-f]{12}_[0-9a-f]{8}\\.dump"), dump);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(backups.resolve(dump))));
        String manifest = Files.readString(backups.resolve(dump + ".manifest.json"));
        assertTrue(manifest.contains("\"schemaVersionBefore\" : \"1\"") && manifest.contains("\"pendingMigrations\" : [ \"2\" ]"), manifest);
        assertTrue(manifest.contains("\"pgDumpVersion\" : \"pg_dump (PostgreSQL) " + PgClients.major(PgClients.pgDump()) + "."), manifest);
        assertEquals("500", db.scalar("select count(*) from accounts"));

        assumeRestorable(db);
        try (var admin = db.server().admin("postgres")) {
            admin.createStatement().execute("alter role " + db.user() + " createdb"); // restore creates a database
        }
        Result restore = PgshiftProcess.run(List.of("restore", backups.resolve(dump).toString(), "--into", db.name() + "_copy"), env(db));
        assertEquals(0, restore.exitCode(), restore.toString());
        TestDb copy = new TestDb(db.server(), db.name() + "_copy", db.user(), db.password());
        assertEquals(before, copy.query("select * from accounts order by id"));

        Result overLive = PgshiftProcess.run(List.of("restore", backups.resolve(dump).toString(), "--into", db.name()), env(db));
        assertEquals(3, overLive.exitCode(), "never over the live database without --overwrite-live: " + overLive);
    }

    /**
     * A restore target is a database name, never a connection string: --into 'dbname=other' restored into the existing
     * database other (pg_restore reads such a --dbname as a connection string), and a name holding '=' failed. --into
     * that PostgreSQL would cut, or empty, is refused; --overwrite-live refuses another database's backup; the default
     * target of a long database name fits 63 bytes (hostile-user findings).
     */
    @Test
    @Tag(OneMajor.TAG)
    void aRestoreTargetIsADatabaseNameNeverAConnectionString() throws Exception {
        TestDb db = setUp("target_" + "x".repeat(35));
        assumeRestorable(db);
        try (var admin = db.server().admin("postgres")) {
            admin.createStatement().execute("alter role " + db.user() + " createdb");
        }
        TestDb victim = db.server().newDatabase("victim");
        assertEquals(0, PgshiftProcess.run(List.of("backup"), env(db)).exitCode());
        Path dump = backups.resolve(completeDumps().get(0));

        String odd = "dbname=" + victim.name();
        Result r = PgshiftProcess.run(List.of("restore", dump.toString(), "--into", odd), env(db));
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(null, victim.scalar("select to_regclass('public.accounts')"), "nothing restored into the database the name spells");
        assertEquals("1000", new TestDb(db.server(), odd, db.user(), db.password()).scalar("select count(*) from accounts"));

        for (String bad : new String[] {"", "n".repeat(64)}) {
            Result refused = PgshiftProcess.run(List.of("restore", dump.toString(), "--into", bad), env(db));
            assertEquals(3, refused.exitCode(), refused.toString());
            assertTrue(refused.stderr().contains("for --into: 1 to 63 bytes"), refused.stderr());
        }

        Result otherLive = PgshiftProcess.run(List.of("restore", dump.toString(), "--overwrite-live"), env(victim));
        assertEquals(3, otherLive.exitCode(), otherLive.toString());
        assertTrue(otherLive.stderr().contains("refusing to restore the backup of " + db.name()), otherLive.stderr());
        assertEquals(null, victim.scalar("select to_regclass('public.accounts')"));

        Result byDefault = PgshiftProcess.run(List.of("restore", dump.toString()), env(db));
        assertEquals(0, byDefault.exitCode(), byDefault.toString());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("into (\\S+_restored_\\S+)").matcher(byDefault.stderr());
        assertTrue(m.find(), byDefault.stderr());
        assertTrue(m.group(1).length() <= 63, m.group(1));
        assertEquals("1000", new TestDb(db.server(), m.group(1), db.user(), db.password()).scalar("select count(*) from accounts"));

        // Two restores started together (a hostile-user finding: both chose one name to the second, and the later took the
        // earlier's still-empty database for an interrupted restore's and dropped it): two databases, each whole.
        PgshiftProcess one = PgshiftProcess.start(List.of("restore", dump.toString()), env(db));
        PgshiftProcess two = PgshiftProcess.start(List.of("restore", dump.toString()), env(db));
        Set<String> targets = new java.util.HashSet<>();
        for (PgshiftProcess p : List.of(one, two)) {
            Result each = p.await(Duration.ofSeconds(120));
            assertEquals(0, each.exitCode(), each.toString());
            assertFalse(each.stderr().contains("interrupted restore"), each.stderr());
            java.util.regex.Matcher named = java.util.regex.Pattern.compile("into (\\S+_restored_\\S+)").matcher(each.stderr());
            assertTrue(named.find(), each.stderr());
            targets.add(named.group(1));
        }
        assertEquals(2, targets.size(), targets.toString());
        for (String target : targets) {
            assertEquals("1000", new TestDb(db.server(), target, db.user(), db.password()).scalar("select count(*) from accounts"));
        }
    }

    @Test
    void schemaOnlyBackupRestoresTheTablesWithoutTheirRows() throws Exception {
        TestDb db = setUp("schemaonly");
        assumeRestorable(db);
        try (var admin = db.server().admin("postgres")) {
            admin.createStatement().execute("alter role " + db.user() + " createdb");
        }
        Result b = PgshiftProcess.run(List.of("backup", "--backup-scope", "schema"), env(db));
        assertEquals(0, b.exitCode(), b.toString());
        String dump = completeDumps().get(0);
        assertTrue(Files.readString(backups.resolve(dump + ".manifest.json")).contains("\"scope\" : \"schema\""));
        Result r = PgshiftProcess.run(List.of("restore", backups.resolve(dump).toString(), "--into", db.name() + "_schema"), env(db));
        assertEquals(0, r.exitCode(), r.toString());
        TestDb copy = new TestDb(db.server(), db.name() + "_schema", db.user(), db.password());
        assertEquals("0", copy.scalar("select count(*) from accounts"));
        assertEquals("1000", db.scalar("select count(*) from accounts"));
    }

    @Test
    void overwriteLiveRestoresTheBackupOverTheConfiguredDatabase() throws Exception {
        TestDb db = setUp("overlive");
        assumeRestorable(db);
        List<List<String>> before = db.query("select * from accounts order by id");
        assertEquals(0, PgshiftProcess.run(List.of("backup"), env(db)).exitCode());
        db.execute("DELETE FROM accounts WHERE id > 10");
        db.execute("CREATE TABLE scratch_after_backup (id int)");
        Path dump = backups.resolve(completeDumps().get(0));
        Result r = PgshiftProcess.run(List.of("restore", dump.toString(), "--overwrite-live"), env(db));
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stdout().contains("into database " + db.name()), r.stdout());
        assertEquals(before, db.query("select * from accounts order by id"));
        assertEquals(List.of("1"), db.appliedVersions());
    }

    @Test
    void parallelRestoreIntoANewDatabaseAndAFailedRestoreLeavesNoDatabaseBehind() throws Exception {
        TestDb db = setUp("jobs");
        assumeRestorable(db);
        try (var admin = db.server().admin("postgres")) {
            admin.createStatement().execute("alter role " + db.user() + " createdb");
        }
        db.execute("INSERT INTO accounts SELECT g, md5(g::text), g FROM generate_series(1001, 30000) g");
        db.execute("CREATE TABLE ledger AS SELECT g AS id, g % 97 AS account FROM generate_series(1, 20000) g");
        List<List<String>> accounts = db.query("select * from accounts order by id");
        assertEquals(0, PgshiftProcess.run(List.of("backup"), env(db)).exitCode());
        Path dump = backups.resolve(completeDumps().get(0));

        Result r = PgshiftProcess.run(List.of("restore", dump.toString(), "--jobs", "2", "--into", db.name() + "_parallel"), env(db));
        assertEquals(0, r.exitCode(), r.toString());
        TestDb copy = new TestDb(db.server(), db.name() + "_parallel", db.user(), db.password());
        assertEquals(accounts, copy.query("select * from accounts order by id"));
        assertEquals("20000", copy.scalar("select count(*) from ledger"));

        Result overLive = PgshiftProcess.run(List.of("restore", dump.toString(), "--jobs", "2", "--overwrite-live"), env(db));
        assertEquals(3, overLive.exitCode(), overLive.toString());
        assertTrue(overLive.stderr().contains("one transaction"), overLive.stderr());

        // A dump its manifest vouches for but pg_restore cannot read to the end (made, say, by another tool): the
        // restore fails after creating tables, and the database it created is dropped again, with one job or two.
        Path bad = backups.resolve("unreadable.dump");
        byte[] bytes = Files.readAllBytes(dump);
        bytes[bytes.length / 2] ^= (byte) 0xff;
        Files.write(bad, bytes);
        String manifest = Files.readString(dump.resolveSibling(dump.getFileName() + ".manifest.json"));
        Files.writeString(bad.resolveSibling("unreadable.dump.manifest.json"),
                manifest.replaceAll("\"sha256\" : \"[0-9a-f]+\"", "\"sha256\" : \"" + BackupService.sha256(bad) + "\""));
        for (String jobs : List.of("1", "2")) {
            String into = db.name() + "_failed" + jobs;
            Result failed = PgshiftProcess.run(List.of("restore", bad.toString(), "--jobs", jobs, "--into", into), env(db));
            assertEquals(4, failed.exitCode(), failed.toString());
            assertTrue(failed.stderr().contains("dropped the database " + into), failed.stderr());
            assertEquals("0", db.scalar("select count(*) from pg_database where datname = '" + into + "'"), "jobs " + jobs);
        }
        assertEquals(accounts, db.query("select * from accounts order by id"), "the live database is untouched");
    }

    @Test
    @Tag(OneMajor.TAG)
    void nothingPendingMakesNoBackup() throws Exception {
        TestDb db = setUp("nopending");
        List<String> before = files();
        Result r = PgshiftProcess.run(List.of("run"), env(db));
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(before, files());
        assertTrue(r.stdout().matches("(?s).*backup +SKIPPED.*nothing pending.*"), r.stdout());
    }

    @Test
    @Tag(OneMajor.TAG)
    void backupThatCannotBeWrittenStopsTheRunBeforeMigrating() throws Exception {
        TestDb db = setUp("unwritable");
        Files.writeString(migrations.resolve("V2__more.sql"), "CREATE TABLE more (id int);\n");
        Path file = Files.writeString(tmp.resolve("a-file"), "not a directory");
        Map<String, String> env = env(db);
        env.put("PGSHIFT_BACKUP_DIR", file.resolve("backups").toString());
        Result r = PgshiftProcess.run(List.of("run"), env);
        assertEquals(4, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("the backup directory " + file.resolve("backups") + " (--backup-dir) cannot be made: " + file
                + " is not a directory. Nothing was changed; point --backup-dir at a directory, or pass --backup=never"), r.stderr());
        assertFalse(r.stderr().contains("Exception"), "in words, not a Java exception's class: " + r.stderr());
        assertTrue(r.stdout().contains("failed in preflight"), "found before connecting, taking the lock and planning: " + r.stdout());
        assertEquals(List.of("1"), db.appliedVersions());
        env.put("PGPORT", "1"); // nothing listens: the directory is checked first, without a wait for the server
        Result noServer = PgshiftProcess.run(List.of("backup", "--connect-timeout", "60s"), env);
        assertEquals(4, noServer.exitCode(), noServer.toString());
        assertTrue(noServer.stderr().contains(file + " is not a directory. Nothing was changed; point --backup-dir at a directory"),
                noServer.stderr());
        assertFalse(noServer.stderr().contains("--backup=never"), "pgshift backup takes no --backup=never: " + noServer.stderr());
    }

    /**
     * A backup volume with less room than this database's last backup took: exit 4 before connecting, with both sizes
     * (it was found by pg_dump running out of space, after connect, lock and plan).
     */
    @Test
    @Tag(OneMajor.TAG)
    void aBackupVolumeSmallerThanTheLastBackupIsRefusedInPreflight() throws Exception {
        TestDb db = setUp("diskshort");
        db.execute("INSERT INTO accounts SELECT g, md5(g::text) || md5((g * 7)::text), g FROM generate_series(1001, 40000) g");
        Path volume = tmpfs("short-volume", "8m");
        try {
            Map<String, String> env = env(db);
            env.put("PGSHIFT_BACKUP_DIR", volume.toString());
            assertEquals(0, PgshiftProcess.run(List.of("backup"), env).exitCode());
            long last;
            try (Stream<Path> s = Files.list(volume)) {
                last = s.filter(p -> p.toString().endsWith(".dump")).findFirst().orElseThrow().toFile().length();
            }
            long free = Files.getFileStore(volume).getUsableSpace();
            Files.write(volume.resolve("filler"), new byte[(int) (free - last / 2)]);
            Files.writeString(migrations.resolve("V2__more.sql"), "CREATE TABLE more (id int);\n");
            Result r = PgshiftProcess.run(List.of("run"), env);
            assertEquals(4, r.exitCode(), r.toString());
            assertTrue(r.stderr().matches("(?s).*the backup directory " + java.util.regex.Pattern.quote(volume.toString()) + " \\(--backup-dir\\) "
                    + "has [0-9.]+ MiB free, and the last backup of this database \\(.*\\.dump\\) took [0-9.]+ MiB\\. Nothing was changed.*"),
                    r.stderr());
            assertTrue(r.stdout().contains("failed in preflight"), r.stdout());
            assertEquals(List.of("1"), db.appliedVersions());
        } finally {
            new ProcessBuilder("umount", volume.toString()).inheritIO().start().waitFor();
        }
    }

    /**
     * The backup volume fills up while pg_dump writes (a 1 MiB tmpfs for a dump of several MiB): exit 4 with what
     * pg_dump said, nothing migrated, nothing left on the volume; the next run, with room, backs up and migrates.
     */
    @Test
    @Tag(OneMajor.TAG)
    void fullBackupVolumeStopsTheRunBeforeMigratingAndLeavesNothingOnIt() throws Exception {
        TestDb db = setUp("diskfull");
        db.execute("INSERT INTO accounts SELECT g, md5(g::text) || md5((g * 7)::text), g FROM generate_series(1001, 150000) g");
        Files.writeString(migrations.resolve("V2__more.sql"), "CREATE TABLE more (id int);\n");
        Path volume = tmpfs("small-volume", "1m");
        try {
            Map<String, String> env = env(db);
            env.put("PGSHIFT_BACKUP_DIR", volume.toString());
            Result r = PgshiftProcess.run(List.of("run"), env);
            assertEquals(4, r.exitCode(), r.toString());
            assertTrue(r.stderr().contains("pg_dump failed") && r.stderr().contains("No space left on device"), r.stderr());
            try (Stream<Path> left = Files.list(volume)) {
                assertEquals(List.of(), left.toList(), "no partial file is left to fill the volume");
            }
            assertEquals(List.of("1"), db.appliedVersions());
        } finally {
            new ProcessBuilder("umount", volume.toString()).inheritIO().start().waitFor();
        }
        Result next = PgshiftProcess.run(List.of("run"), env(db));
        assertEquals(0, next.exitCode(), next.toString());
        assertEquals(List.of("1", "2"), db.appliedVersions());
    }

    /** A tmpfs of {@code size} mounted at tmp/{@code name} as a backup volume (unmounted by the test): root only. */
    private Path tmpfs(String name, String size) throws Exception {
        Path volume = Files.createDirectories(tmp.resolve(name));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", volume.toString()).redirectErrorStream(true).start();
        String said = new String(mount.getInputStream().readAllBytes()).strip();
        assertEquals(0, mount.waitFor(), "this test mounts a " + size + " tmpfs as the backup volume and needs root for it: " + said);
        return volume;
    }

    /** pg_dump has begun to write its archive (pgshift creates the file empty beforehand). */
    private boolean dumpWritten() throws Exception {
        for (String f : files()) {
            if (f.endsWith(".dump.partial") && Files.size(backups.resolve(f)) > 0) {
                return true;
            }
        }
        return false;
    }

    /** Enough data for a dump of a few seconds, a pending migration, and a run caught while pg_dump writes. */
    private PgshiftProcess runUntilDumping(TestDb db) throws Exception {
        db.execute("INSERT INTO accounts SELECT g, repeat(md5(g::text), 20), g FROM generate_series(1001, 300000) g");
        Files.writeString(migrations.resolve("V2__more.sql"), "CREATE TABLE more (id int);\n");
        PgshiftProcess run = PgshiftProcess.start(List.of("run"), env(db));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!dumpWritten()) {
            assertTrue(System.nanoTime() < deadline, "no dump started: " + run.stderrSoFar());
            Thread.sleep(5);
        }
        return run;
    }

    @Test
    @Tag(OneMajor.TAG)
    void killDuringTheDumpLeavesNoCompleteLookingFileAndTheNextRunSucceeds() throws Exception {
        TestDb db = setUp("killdump");
        PgshiftProcess run = runUntilDumping(db);
        run.signal("KILL");
        run.await(Duration.ofSeconds(10));
        Thread.sleep(3000); // the orphaned pg_dump may go on writing its temporary file
        assertEquals(List.of(), completeDumps(), "files: " + files());
        assertEquals(List.of("1"), db.appliedVersions());

        Result next = PgshiftProcess.run(List.of("run"), env(db));
        assertEquals(0, next.exitCode(), next.toString());
        assertEquals(1, completeDumps().size());
        assertTrue(files().stream().noneMatch(f -> f.endsWith(".partial")), files().toString());
        assertEquals(List.of("1", "2"), db.appliedVersions());
    }

    /**
     * A pg_dump that exits 0 but leaves a damaged archive. "truncate" and "flip" write a damaged archive (the real
     * pg_dump's output, damaged, then copied into place as the archive pgshift follows); "truncate-later" lets the real
     * pg_dump write the file and cuts it after it exited, while pgshift may already have read it back whole.
     */
    private Path damagingPgDump(String damage) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin-" + damage));
        Path real = PgClients.pgDump();
        String truncate = "truncate -s $(( $(stat -c %s \"$f\") * 2 / 3 )) \"$f\"";
        String flip = "size=$(stat -c %s \"$f\"); pos=$(( size / 2 )); "
                + "b=$(od -An -tu1 -j $pos -N1 \"$f\" | tr -d ' '); "
                + "printf \"$(printf '\\\\%03o' $(( b ^ 255 )))\" | dd of=\"$f\" bs=1 seek=$pos count=1 conv=notrunc 2>/dev/null";
        String body = switch (damage) {
            case "truncate", "flip" -> "f=\"$out.raw\"\n\"" + real + "\" \"$@\" --file=\"$f\" || exit $?\n"
                    + (damage.equals("flip") ? flip : truncate) + "\ncat \"$f\" > \"$out\"\nrm -f \"$f\"\n";
            case "truncate-later" -> "f=\"$out\"\n\"" + real + "\" \"$@\" || exit $?\n" + truncate + "\n";
            default -> throw new IllegalArgumentException(damage);
        };
        return wrappedPgDump(bin, "echo \"$@\" >> \"" + tmp.resolve("pg_dump-args.txt") + "\"\n" + body);
    }

    @Test
    void truncatedOrFlippedArchiveIsCaughtBeforeMigrating() throws Exception {
        TestDb db = setUp("damaged");
        db.execute("INSERT INTO accounts SELECT g, repeat(md5(g::text), 5), g FROM generate_series(1001, 50000) g");
        Files.writeString(migrations.resolve("V2__more.sql"), "CREATE TABLE more (id int);\n");
        for (String damage : List.of("truncate", "flip", "truncate-later")) {
            Map<String, String> env = env(db);
            env.put("PGSHIFT_PG_DUMP", damagingPgDump(damage).toString());
            Result r = PgshiftProcess.run(List.of("run"), env);
            assertEquals(4, r.exitCode(), damage + ": " + r);
            assertTrue(r.stderr().contains("reading the whole backup back"), damage + ": " + r.stderr());
            assertEquals(List.of(), completeDumps(), damage + ": " + files());
            assertEquals(List.of("1"), db.appliedVersions(), damage);
        }
        String args = Files.readString(tmp.resolve("pg_dump-args.txt"));
        assertFalse(args.contains(db.password()), "no password on pg_dump's command line: " + args);
        assertFalse(args.contains("postgresql://"), args);
    }

    /**
     * A pg_dump that writes its archive slowly, 16 KiB every 50 ms: pgshift logs the bytes written and read back at
     * the progress interval, the file is private while it grows, and the slow archive still ends up complete.
     */
    @Test
    @Tag(OneMajor.TAG)
    void longDumpLogsProgressAndStaysPrivateWhileWritten() throws Exception {
        TestDb db = setUp("progress");
        db.execute("INSERT INTO accounts SELECT g, md5(g::text), g FROM generate_series(1001, 20000) g");
        Files.writeString(migrations.resolve("V2__more.sql"), "CREATE TABLE more (id int);\n");
        Path bin = Files.createDirectories(tmp.resolve("bin-slow"));
        Path real = PgClients.pgDump();
        Path script = wrappedPgDump(bin, "\"" + real + "\" \"$@\" --file=\"$out.raw\" || exit $?\n"
                + "stat -c %a \"$out\" > \"" + tmp.resolve("mode-while-dumping.txt") + "\"\n"
                + "blocks=$(( ($(stat -c %s \"$out.raw\") + 16383) / 16384 )); i=0\n"
                + "while [ $i -lt $blocks ]; do dd if=\"$out.raw\" bs=16384 skip=$i count=1 2>/dev/null; i=$((i+1)); sleep 0.05; done > \"$out\"\n"
                + "rm -f \"$out.raw\"\n");
        Map<String, String> env = env(db);
        env.put("PGSHIFT_PG_DUMP", script.toString());
        env.put("PGSHIFT_PROGRESS_INTERVAL", "200ms");

        Result r = PgshiftProcess.run(List.of("run"), env);
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("600", Files.readString(tmp.resolve("mode-while-dumping.txt")).strip(), "the file pg_dump fills is private from the start");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("backup in progress: (\\d+) bytes written, (\\d+) read back").matcher(r.stderr());
        List<long[]> progress = new java.util.ArrayList<>();
        while (m.find()) {
            progress.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        }
        assertTrue(progress.size() >= 3, "progress lines: " + r.stderr());
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i)[0] >= progress.get(i - 1)[0], "bytes written never go back: " + r.stderr());
        }
        long size = Files.size(backups.resolve(completeDumps().get(0)));
        assertTrue(progress.get(progress.size() - 1)[0] > progress.get(0)[0] && progress.get(0)[0] < size, "growing, below the final " + size);
        assertTrue(progress.stream().allMatch(p -> p[1] <= p[0]), "nothing is read back before it is written: " + r.stderr());
        assertEquals(List.of("1", "2"), db.appliedVersions());
    }

    @Test
    @Tag(OneMajor.TAG)
    void restoreRefusesABackupWhoseBytesChanged() throws Exception {
        TestDb db = setUp("flipped");
        Result b = PgshiftProcess.run(List.of("backup"), env(db));
        assertEquals(0, b.exitCode(), b.toString());
        Path dump = backups.resolve(completeDumps().get(0));
        byte[] bytes = Files.readAllBytes(dump);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(dump, bytes);
        Result r = PgshiftProcess.run(List.of("restore", dump.toString()), env(db));
        assertEquals(4, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("is damaged: its sha256 is"), r.stderr());
        assertEquals("0", db.scalar("select count(*) from pg_database where datname like '" + db.name() + "_restored%'"));
    }

    @Test
    @Tag(OneMajor.TAG)
    void retentionKeepsExactlyN() throws Exception {
        TestDb db = setUp("retention");
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Result r = PgshiftProcess.run(List.of("backup", "--backup-keep", "2"), env(db));
            assertEquals(0, r.exitCode(), r.toString());
            made.add(completeDumps().stream().filter(f -> !made.contains(f)).findFirst().orElseThrow());
        }
        assertEquals(made.subList(2, 4), completeDumps());
        assertEquals(4, files().size(), "two dumps and their manifests: " + files());
    }

    @Test
    @Tag(OneMajor.TAG)
    void aSharedBackupDirectoryKeepsAnotherDatabasesBackupInProgress() throws Exception {
        TestDb db = setUp("shared");
        Result first = PgshiftProcess.run(List.of("backup"), env(db));
        assertEquals(0, first.exitCode(), first.toString());
        String made = completeDumps().get(0); // <time>_<database>_<key>_<run>.dump
        String ownPrefix = made.substring(0, made.length() - "_12345678.dump".length()).replaceFirst("^\\d{8}T\\d{6}\\.\\d{3}Z", "");
        Path mine = Files.writeString(backups.resolve(".20260101T000000Z" + ownPrefix + "_0badc0de.dump.partial"), "left by a killed run");
        Path theirs = Files.writeString(backups.resolve(".20260101T000000Z_otherdb_12345678.dump.partial"), "being written right now");
        // Named the way pgshift named them before names carried the server's and database's key: which server's database
        // wrote it cannot be told, so only a leftover untouched for a day is removed.
        Path oldRecent = Files.writeString(backups.resolve(".20260101T000001Z_" + db.name() + "_0badc0de.dump.partial"), "maybe being written");
        Path oldStale = Files.writeString(backups.resolve(".20260101T000002Z_" + db.name() + "_0badc0de.dump.partial"), "left long ago");
        Files.setLastModifiedTime(oldStale, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(Duration.ofDays(2))));
        // A database whose name contains this one's between underscores: its backups are not this database's to prune.
        Path similar = Files.writeString(backups.resolve("20200101T000000Z_x_" + db.name() + "_y_12345678.dump"), "another database's backup");
        Result r = PgshiftProcess.run(List.of("backup", "--backup-keep", "1"), env(db));
        assertEquals(0, r.exitCode(), r.toString());
        assertFalse(Files.exists(mine), "this database's leftover is removed: " + files());
        assertTrue(Files.exists(theirs), "another database's run (its own run lock) may be writing it: " + files());
        assertTrue(Files.exists(oldRecent), "an old-style leftover touched within the day may be another server's: " + files());
        assertFalse(Files.exists(oldStale), "an old-style leftover untouched for a day is removed: " + files());
        assertTrue(Files.exists(similar), "retention keeps to this database's own backups: " + files());
        assertEquals(1, completeDumps().stream().filter(f -> f.contains(ownPrefix + "_")).count(), files().toString());
        assertFalse(completeDumps().contains(made), "the first backup is pruned with --backup-keep 1: " + files());
    }

    /**
     * Databases whose names read alike in a file name (shop.eu, shop-eu), and one database reached through two server
     * addresses, share a backup directory with --backup-keep 1: backed up in turn and at once, each keeps its newest
     * backup; a backup named the way pgshift named them before keys is pruned as its manifest's database's, and only so.
     */
    @Test
    @Tag(OneMajor.TAG)
    void databasesWhoseNamesReadAlikeAndTwoServersKeepTheirOwnBackups() throws Exception {
        TestDb owner = setUp("alike");
        TestDb dotted = alias(owner, owner.name() + ".eu");
        TestDb dashed = alias(owner, owner.name() + "-eu");
        Map<String, String> viaIp = env(dotted);
        viaIp.put("PGHOST", "127.0.0.1");
        List<Map<String, String>> targets = List.of(env(dotted), env(dashed), viaIp);
        Map<String, Long> expected = Map.of("localhost/" + dotted.name(), 1L, "localhost/" + dashed.name(), 1L, "127.0.0.1/" + dotted.name(), 1L);
        for (int round = 0; round < 2; round++) {
            for (Map<String, String> target : targets) {
                Result r = PgshiftProcess.run(List.of("backup", "--backup-keep", "1"), target);
                assertEquals(0, r.exitCode(), r.toString());
                Map<String, Long> kept = backupsByTarget();
                assertTrue(expected.keySet().containsAll(kept.keySet()), "nothing but these databases' backups: " + files());
                assertTrue(kept.values().stream().allMatch(n -> n == 1), "each keeps exactly its newest: " + kept);
            }
        }
        assertEquals(expected, backupsByTarget(), files().toString());

        List<PgshiftProcess> atOnce = new ArrayList<>();
        for (Map<String, String> target : targets) {
            atOnce.add(PgshiftProcess.start(List.of("backup", "--backup-keep", "1"), target));
        }
        for (PgshiftProcess p : atOnce) {
            Result r = p.await(Duration.ofSeconds(120));
            assertEquals(0, r.exitCode(), r.toString());
        }
        assertEquals(expected, backupsByTarget(), files().toString());

        // Backups named <time>_<database with . as ->_<run>.dump, their manifests without a port: both databases' read alike.
        String oldName = "20200101T000000Z_" + dashed.name() + "_0000000%d.dump";
        int i = 0;
        for (TestDb db : List.of(dotted, dashed)) {
            String dump = completeDumps().stream().filter(f -> manifestOf(f).get("database").asText().equals(db.name())
                    && manifestOf(f).get("host").asText().equals("localhost")).findFirst().orElseThrow();
            String name = String.format(oldName, ++i);
            Files.copy(backups.resolve(dump), backups.resolve(name));
            com.fasterxml.jackson.databind.node.ObjectNode m = (com.fasterxml.jackson.databind.node.ObjectNode) manifestOf(dump);
            m.put("file", name).put("startedAt", "2020-01-01T00:00:00Z").remove("port");
            Files.writeString(backups.resolve(name + ".manifest.json"), m.toPrettyString());
        }
        Result r = PgshiftProcess.run(List.of("backup", "--backup-keep", "1"), env(dotted));
        assertEquals(0, r.exitCode(), r.toString());
        assertFalse(files().contains(String.format(oldName, 1)), "the old-style backup of " + dotted.name() + " is pruned: " + files());
        assertTrue(files().contains(String.format(oldName, 2)), "the old-style backup of " + dashed.name() + " is kept: " + files());
        assertTrue(r.stderr().contains("retention: deleting " + String.format(oldName, 1)), r.stderr());
    }

    /** A database named exactly {@code name}, owned by {@code owner}'s role (whose password it shares). */
    private static TestDb alias(TestDb owner, String name) throws Exception {
        try (java.sql.Connection c = owner.server().admin("postgres"); java.sql.Statement st = c.createStatement()) {
            st.execute("create database \"" + name + "\" owner " + owner.user());
        }
        return new TestDb(owner.server(), name, owner.user(), owner.password());
    }

    private com.fasterxml.jackson.databind.JsonNode manifestOf(String dump) {
        try {
            return dev.pgshift.Json.MAPPER.readTree(backups.resolve(dump + ".manifest.json").toFile());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Complete backups per host/database, read from their manifests. */
    private Map<String, Long> backupsByTarget() throws Exception {
        return completeDumps().stream().collect(java.util.stream.Collectors.groupingBy(
                f -> manifestOf(f).get("host").asText() + "/" + manifestOf(f).get("database").asText(), java.util.stream.Collectors.counting()));
    }

    @Test
    @Tag(OneMajor.TAG)
    void maxAgeDeletesOldBackupsButNeverTheNewOne() throws Exception {
        TestDb db = setUp("maxage");
        Result first = PgshiftProcess.run(List.of("backup"), env(db));
        assertEquals(0, first.exitCode(), first.toString());
        String old = completeDumps().get(0);
        java.nio.file.attribute.FileTime twoDaysAgo = java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(Duration.ofDays(2)));
        Files.setLastModifiedTime(backups.resolve(old), twoDaysAgo);
        Result second = PgshiftProcess.run(List.of("backup", "--backup-max-age", "24h"), env(db));
        assertEquals(0, second.exitCode(), second.toString());
        List<String> left = completeDumps();
        assertEquals(1, left.size(), files().toString());
        assertFalse(left.contains(old));
        assertFalse(files().contains(old + ".manifest.json"), "its manifest goes with it");
    }

    @Test
    @Tag(OneMajor.TAG)
    void sigtermDuringTheDumpStopsWithExit75AndNoCompleteLookingFile() throws Exception {
        TestDb db = setUp("termdump");
        PgshiftProcess run = runUntilDumping(db);
        run.signal("TERM");
        Result r = run.await(Duration.ofSeconds(30));
        assertEquals(75, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("stopped by SIGTERM during the backup"), r.stderr());
        assertEquals(List.of(), completeDumps(), files().toString());
        assertTrue(files().stream().noneMatch(f -> f.endsWith(".partial")), "the temporary file is removed: " + files());
        assertEquals(List.of("1"), db.appliedVersions());
    }

    @Test
    void verifyRestoreComparesRowCountsInAScratchDatabase() throws Exception {
        TestDb db = setUp("verifyrestore");
        assumeRestorable(db);
        try (var admin = db.server().admin("postgres")) {
            admin.createStatement().execute("alter role " + db.user() + " createdb");
        }
        Files.writeString(migrations.resolve("V2__more.sql"), "CREATE TABLE more (id int);\n");
        Result r = PgshiftProcess.run(List.of("run", "--verify-restore"), env(db));
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains("row counts equal"), r.stderr());
        String manifest = Files.readString(backups.resolve(completeDumps().get(0) + ".manifest.json"));
        assertTrue(manifest.contains("\"public.accounts\" : 1000") && manifest.contains("\"restoreVerified\" : true"), manifest);
        assertEquals("0", db.scalar("select count(*) from pg_database where datname like 'pgshift_verify_%'"), "scratch dropped");
    }

    /**
     * pg_dump's version gate on the suite's server, whatever its major: a pg_dump of an older major is refused before
     * anything changes (exit 4, both versions named), one of the server's major or newer (the suite's own: for a server
     * 14 it is 15, for 16 it is 17) is accepted. Servers 16 to 18 get a real older pg_dump (15 or 17); for 14 and 15 none
     * older is at hand (Debian 12's is 15), so a stand-in that reports an older --version plays it.
     */
    @Test
    void pgDumpOlderThanTheServerIsRefusedAndOneOfItsMajorOrNewerAccepted() throws Exception {
        TestDb db = setUp("versiongate");
        int server = db.server().major();
        Path older = PgClients.olderPgDump().orElse(null);
        if (older == null) {
            Path bin = Files.createDirectories(tmp.resolve("bin-older"));
            older = bin.resolve("pg_dump");
            Files.writeString(older, "#!/bin/sh\n# a stand-in for a pg_dump older than the server: no real one is at hand\n"
                    + "case \"$1\" in --version) echo 'pg_dump (PostgreSQL) " + (server - 1) + ".0 (stand-in)'; exit 0;; esac\n"
                    + "exec \"" + PgClients.pgDump() + "\" \"$@\"\n");
            older.toFile().setExecutable(true);
            realPgRestoreIn(bin);
        }
        int olderMajor = PgClients.major(older);
        assertTrue(olderMajor < server, "pg_dump " + olderMajor + " is older than the server " + server);
        Files.writeString(migrations.resolve("V2__more.sql"), "CREATE TABLE more (id int);\n");
        Map<String, String> olderEnv = env(db);
        olderEnv.put("PGSHIFT_PG_DUMP", older.toString());

        Result refused = PgshiftProcess.run(List.of("run"), olderEnv);
        assertEquals(4, refused.exitCode(), refused.toString());
        assertTrue(refused.stderr().matches("(?s).*pg_dump " + olderMajor + " .* is older than the server \\(PostgreSQL " + server + "\\..*"),
                refused.stderr());
        assertEquals(List.of("1"), db.appliedVersions(), "nothing migrated");
        assertEquals(List.of(), completeDumps(), files().toString());

        int suites = PgClients.major(PgClients.pgDump());
        assertTrue(suites >= server, "the suite's pg_dump " + suites + " is not older than the server " + server);
        Result accepted = PgshiftProcess.run(List.of("run"), env(db));
        assertEquals(0, accepted.exitCode(), accepted.toString());
        assertEquals(List.of("1", "2"), db.appliedVersions());
        String manifest = Files.readString(backups.resolve(completeDumps().get(0) + ".manifest.json"));
        assertTrue(manifest.contains("\"pgDumpVersion\" : \"pg_dump (PostgreSQL) " + suites + "."), manifest);

        Files.writeString(migrations.resolve("V3__even_more.sql"), "CREATE TABLE even_more (id int);\n");
        Result never = PgshiftProcess.run(List.of("run", "--backup", "never"), olderEnv);
        assertEquals(0, never.exitCode(), never.toString());
        assertTrue(never.stdout().contains("no backup was made before migrating (--backup=never)"), never.stdout());
    }

    /**
     * A pg_restore that cannot load into the server (17 or later into a server before 17: its first statement sets
     * transaction_timeout) is refused before anything happens: restore creates no database, run --verify-restore
     * migrates nothing. Real on a server 16 (the suite's pg_restore is 17); on 14 and 15 a stand-in pg_dump reports 17
     * (pgshift reads the major from pg_dump --version, pg_restore is taken from beside it); 17 and 18 have no such case.
     */
    @Test
    void pgRestoreThatCannotLoadIntoTheServerIsRefusedBeforeADatabaseIsCreated() throws Exception {
        TestDb db = setUp("norestore");
        int server = db.server().major();
        assumeTrue(server < 17, "every pg_restore there is loads into PostgreSQL " + server);
        try (var admin = db.server().admin("postgres")) {
            admin.createStatement().execute("alter role " + db.user() + " createdb");
        }
        Path pgDump = PgClients.pgDump();
        if (PgClients.restoresInto(server)) {
            Path bin = Files.createDirectories(tmp.resolve("bin-17"));
            pgDump = bin.resolve("pg_dump");
            Files.writeString(pgDump, "#!/bin/sh\n# a stand-in for pg_dump 17: no real one is needed to test the refusal\n"
                    + "case \"$1\" in --version) echo 'pg_dump (PostgreSQL) 17.0 (stand-in)'; exit 0;; esac\n"
                    + "exec \"" + PgClients.pgDump() + "\" \"$@\"\n");
            pgDump.toFile().setExecutable(true);
            realPgRestoreIn(bin);
        }
        Map<String, String> env = env(db);
        env.put("PGSHIFT_PG_DUMP", pgDump.toString());
        Result b = PgshiftProcess.run(List.of("backup"), env);
        assertEquals(0, b.exitCode(), "it backs the server up: " + b);
        Path dump = backups.resolve(completeDumps().get(0));

        Result r = PgshiftProcess.run(List.of("restore", dump.toString(), "--into", db.name() + "_copy"), env);
        assertEquals(4, r.exitCode(), r.toString());
        assertTrue(r.stderr().matches("(?s).*pg_restore 17 .* cannot restore into the server \\(PostgreSQL " + server + "\\..*transaction_timeout.*"),
                r.stderr());
        assertEquals("0", db.scalar("select count(*) from pg_database where datname = '" + db.name() + "_copy'"), "no database created");

        Files.writeString(migrations.resolve("V2__more.sql"), "CREATE TABLE more (id int);\n");
        Result run = PgshiftProcess.run(List.of("run", "--verify-restore"), env);
        assertEquals(4, run.exitCode(), run.toString());
        assertTrue(run.stderr().contains("cannot restore into the server"), run.stderr());
        assertEquals(List.of("1"), db.appliedVersions(), "nothing migrated");
        assertEquals("0", db.scalar("select count(*) from pg_database where datname like 'pgshift_verify_%'"));
    }
}
