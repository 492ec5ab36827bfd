package dev.pgshift.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationCatalogTest {

    private static MigrationFile f(String path) {
        return new MigrationFile(path, "/migrations", "SELECT 1;");
    }

    private static MigrationFile f(String path, String sql) {
        return new MigrationFile(path, "/migrations", sql);
    }

    private static PgshiftException refused(List<MigrationFile> files) {
        PgshiftException e = assertThrows(PgshiftException.class, () -> MigrationCatalog.order(files));
        assertEquals(ExitCode.CONFIG, e.exitCode());
        return e;
    }

    /**
     * A Flyway project's placeholder: Flyway writes the role's name where pgshift inserted the text "${flyway:user}"
     * (a hostile-user finding: both recorded the same checksum, so neither tool noticed).
     */
    @Test
    void aFlywayPlaceholderIsRefusedNotRunAsText() {
        List<MigrationScript> scripts = MigrationCatalog.order(List.of(f("V1__init.sql", "CREATE TABLE t (x text);"),
                f("V2__ph.sql", "-- who ran it\nINSERT INTO t VALUES ('${flyway:user}');"),
                f("2024-01-15_143000_js.sql", "SELECT '${not_flyway}';")));
        PgshiftException e = assertThrows(PgshiftException.class, () -> MigrationCatalog.refusePlaceholders(scripts));
        assertEquals(ExitCode.CONFIG, e.exitCode());
        assertTrue(e.getMessage().contains("/migrations/V2__ph.sql:2: ${flyway:user}"), e.getMessage());
        assertTrue(e.getMessage().contains("pgshift does not"), e.getMessage());
        assertFalse(e.getMessage().contains("not_flyway"), "the other schemes never had placeholders: " + e.getMessage());
        MigrationCatalog.refusePlaceholders(scripts.subList(0, 1)); // only pending files are looked at: V1 has none
    }

    @Test
    void aFlywayRepeatableMigrationIsNamedAsSuch() {
        PgshiftException e = refused(List.of(f("V1__init.sql"), f("R__views.sql")));
        assertTrue(e.getMessage().contains("R__views.sql is a Flyway repeatable migration (R__): pgshift runs versioned migrations only"),
                e.getMessage());
    }

    /** A file saved as Latin-1: the message named neither file nor line ("Input length = 1"). */
    @Test
    void aFileThatIsNotUtf8IsNamedWithItsLine(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Files.write(dir.resolve("V1__latin1.sql"), "-- first\nSELECT 'caf\u00e9';\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        PgshiftException e = assertThrows(PgshiftException.class, () -> MigrationLocations.directory(dir));
        assertEquals(ExitCode.CONFIG, e.exitCode());
        assertTrue(e.getMessage().contains("V1__latin1.sql:2: not UTF-8 text (byte 0xE9 at offset 20)"), e.getMessage());
    }

    /** A NUL byte (a file saved as UTF-16 without a byte order mark): it reached the server and was exit 75, "run again". */
    @Test
    void aFileWithANulByteIsNamed(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Files.write(dir.resolve("V1__utf16.sql"), "SELECT 1;\n".getBytes(java.nio.charset.StandardCharsets.UTF_16LE));
        PgshiftException e = assertThrows(PgshiftException.class, () -> MigrationLocations.directory(dir));
        assertEquals(ExitCode.CONFIG, e.exitCode());
        assertTrue(e.getMessage().contains("V1__utf16.sql:1: a NUL byte"), e.getMessage());
        assertTrue(e.getMessage().contains("iconv -f UTF-16"), e.getMessage());
        // One stray NUL in UTF-8 text is no UTF-16 file: converting it as one would garble it.
        java.nio.file.Files.delete(dir.resolve("V1__utf16.sql"));
        java.nio.file.Files.write(dir.resolve("V1__stray.sql"), "SELECT 1;\nSELECT 'a\0b';\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        e = assertThrows(PgshiftException.class, () -> MigrationLocations.directory(dir));
        assertTrue(e.getMessage().contains("V1__stray.sql:2: a NUL byte"), e.getMessage());
        assertTrue(e.getMessage().contains("remove the byte") && !e.getMessage().contains("UTF-16"), e.getMessage());
    }

    @Test
    void threeSchemesFormOneOrderedStream() {
        List<MigrationScript> s = MigrationCatalog.order(List.of(
                f("2024-01-15_143000_add_user_indexes.sql"),
                f("20240110120000_init/migration.sql"),
                f("migration_lock.toml", "provider = \"postgresql\""),
                f("V2__second.sql"),
                f("V1.1__first_and_a_bit.sql"),
                f("20240112090000_add_status/migration.sql")));
        assertEquals(List.of("1.1", "2", "20240110120000.1", "20240112090000.1", "20240115143000"),
                s.stream().map(MigrationScript::version).toList());
        assertEquals(List.of(MigrationScript.Scheme.FLYWAY, MigrationScript.Scheme.FLYWAY, MigrationScript.Scheme.PRISMA,
                MigrationScript.Scheme.PRISMA, MigrationScript.Scheme.TIMESTAMP), s.stream().map(MigrationScript::scheme).toList());
        assertEquals("add_user_indexes", s.get(4).description());
        assertEquals("V20240115143000__add_user_indexes.sql", s.get(4).flywayName());
    }

    @Test
    void prismaFoldersWithOneTimestampKeepPrismasOrder() {
        List<MigrationScript> s = MigrationCatalog.order(List.of(
                f("20220305233635_b/migration.sql"), f("20220305233635_a/migration.sql"), f("20220305233634_z/migration.sql")));
        assertEquals(List.of("20220305233634_z", "20220305233635_a", "20220305233635_b"),
                s.stream().map(m -> m.file().relativePath().split("/")[0]).toList());
        assertEquals(List.of("20220305233634.1", "20220305233635.1", "20220305233635.2"), s.stream().map(MigrationScript::version).toList());
    }

    @Test
    void prismaFolderWithAnEmptyDescriptionIsValid() {
        MigrationScript s = MigrationCatalog.order(List.of(f("20220308100145_/migration.sql"))).get(0);
        assertEquals("", s.description());
        assertEquals("V20220308100145.1__migration.sql", s.flywayName());
    }

    @Test
    void duplicateFlywayVersionsAreRefusedNamingBothFiles() {
        String m = refused(List.of(f("V1__a.sql"), f("V1__b.sql"))).getMessage();
        assertTrue(m.contains("/migrations/V1__a.sql") && m.contains("/migrations/V1__b.sql"), m);
        m = refused(List.of(f("V1__a.sql"), f("V1.0__b.sql"))).getMessage();
        assertTrue(m.contains("V1.0__b.sql"), "1.0 is the same version as 1: " + m);
    }

    @Test
    void manualFileAndPrismaFolderAtTheSameInstantAreRefused() {
        String m = refused(List.of(f("2024-01-10_120000_manual.sql"), f("20240110120000_init/migration.sql"))).getMessage();
        assertTrue(m.contains("2024-01-10_120000_manual.sql") && m.contains("20240110120000_init/migration.sql"), m);
    }

    @Test
    void unparseableNamesAreRefusedNamingEachFile() {
        String m = refused(List.of(f("V1__ok.sql"), f("add_users.sql"), f("2024-13-01_000000_bad_month.sql"), f("v2__lower.sql"))).getMessage();
        assertTrue(m.contains("add_users.sql") && m.contains("2024-13-01_000000_bad_month.sql") && m.contains("v2__lower.sql"), m);
        assertFalse(m.contains("V1__ok.sql"), m);
    }

    @Test
    void aFileMixingConcurrentAndTransactionalStatementsIsRefusedWithTheLine() {
        String m = refused(List.of(f("V1__mixed.sql", "CREATE TABLE t (c int);\n\nCREATE INDEX CONCURRENTLY i ON t(c);\n"))).getMessage();
        assertTrue(m.contains("/migrations/V1__mixed.sql:3"), m);
    }

    @Test
    void sessionSettingsMayPrecedeAConcurrentBuild() {
        MigrationScript s = MigrationCatalog.order(List.of(f("V1__idx.sql", "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON t(c);"))).get(0);
        assertEquals(ExecutionMode.OUTSIDE, s.mode());
        assertEquals("outside transaction", s.mode().label());
    }

    @Test
    void prismaFoldersOfAnyNameKeepPrismasNameOrderAndInterleaveByTheirNumber() {
        List<MigrationScript> s = MigrationCatalog.order(List.of(
                f("0_init/migration.sql"),
                f("20240301100000_b/migration.sql"),
                f("20240301100000_a/migration.sql"),
                f("V5__five.sql"),
                f("2024-03-02_000000_manual.sql"),
                f("zz_no_number/migration.sql")));
        assertEquals(List.of("0.1", "5", "20240301100000.1", "20240301100000.2", "20240301100000.3", "20240302000000"),
                s.stream().map(MigrationScript::version).toList());
        assertEquals(List.of("0_init", "20240301100000_a", "20240301100000_b", "zz_no_number"),
                s.stream().map(MigrationScript::prismaName).filter(java.util.Objects::nonNull).toList());
    }

    @Test
    void zeroPaddedNumberedFoldersRunInNameOrder() {
        List<MigrationFile> files = new java.util.ArrayList<>();
        for (int i = 1; i <= 12; i++) {
            files.add(f(String.format("%02d_step/migration.sql", i)));
        }
        List<MigrationScript> s = MigrationCatalog.order(files);
        assertEquals("1.1", s.get(0).version());
        assertEquals("12.1", s.get(11).version());
        assertEquals("10_step", s.get(9).prismaName());
    }

    /**
     * papermark's folders mix 14-, 12- and 8-digit prefixes; Prisma applies them in name order, and so must pgshift
     * (it refused them: "ambiguous migration order ... Rename one", advice that made it run a renamed folder again).
     */
    @Test
    void foldersWhoseNumbersDisagreeWithNameOrderRunInNameOrder() {
        List<String> names = List.of("20230912150657_initialize", "202310122339_NewColumnInLinkTable", "20231015000000_next",
                "20241231120000_evening", "20241231_eight_digits", "20250105000000_later", "9_a", "10_b");
        List<MigrationFile> files = new java.util.ArrayList<>();
        for (String n : names) {
            files.add(f(n + "/migration.sql"));
        }
        java.util.Collections.reverse(files); // the order files are found in does not matter
        List<MigrationScript> s = MigrationCatalog.order(files);
        assertEquals(List.of("10_b", "20230912150657_initialize", "202310122339_NewColumnInLinkTable", "20231015000000_next",
                "20241231120000_evening", "20241231_eight_digits", "20250105000000_later", "9_a"),
                s.stream().map(MigrationScript::prismaName).toList(), "Prisma's order: by name");
        assertEquals(List.of("10.1", "20230912150657.1", "20230912150657.2", "20231015000000.1", "20241231120000.1", "20241231120000.2",
                "20250105000000.1", "20250105000000.2"), s.stream().map(MigrationScript::version).toList());
    }

    /** A folder's version, once recorded, must not change when folders with later names are added. */
    @Test
    void addingFoldersWithLaterNamesNeverChangesTheVersionsOfEarlierOnes() {
        List<String> names = List.of("0_init", "01_x", "20230912150657_a", "202310122339_b", "2023101223_c", "20231201_d", "20231201_e",
                "20240101000000_f", "3_g", "a_no_number", "b_no_number").stream().sorted().toList();
        java.util.Map<String, String> first = new java.util.HashMap<>();
        for (int k = 1; k <= names.size(); k++) {
            List<MigrationFile> files = names.subList(0, k).stream().map(n -> f(n + "/migration.sql")).toList();
            for (MigrationScript m : MigrationCatalog.order(files)) {
                String was = first.putIfAbsent(m.prismaName(), m.version());
                assertEquals(was == null ? m.version() : was, m.version(), m.prismaName() + " after adding " + names.get(k - 1));
            }
        }
    }

    @Test
    void aDownScriptBesideAnyPrismaFolderIsItsRollback() {
        List<MigrationScript> s = MigrationCatalog.order(List.of(f("0_init/migration.sql"), f("0_init/down.sql", "DROP TABLE t;")));
        assertEquals(1, s.size());
        assertEquals("/migrations/0_init/down.sql", s.get(0).rollback().file().displayPath());
    }

    @Test
    void filesThatAreNoMigrationAreListedWithWhy() {
        List<String> skipped = MigrationCatalog.skipped(List.of(f("20240101000000_init/migration.sql"), f("20240102000000_seed/migration.ts"),
                f("X.SQL"), f("README.md"), f("migration_lock.toml"), f("20240101000000_init/down.sql")));
        assertEquals(List.of("/migrations/20240102000000_seed/migration.ts: a migration folder without a migration.sql; pgshift runs SQL "
                + "migrations only", "/migrations/X.SQL: its extension is not .sql in lower case; rename it to have it run",
                "/migrations/README.md: not a .sql file"), skipped);
    }

    /** A file name holding a newline cannot forge a log line or a summary line (it was printed raw). */
    @Test
    void aFileNameIsPrintedWithItsControlCharactersEscaped() {
        MigrationFile f = new MigrationFile("V1__a\n00:00:00.000 INFO  [d.p.r.RunService] FORGED.sql", "/m", "select 1;");
        assertEquals("/m/V1__a\\x0a00:00:00.000 INFO  [d.p.r.RunService] FORGED.sql", f.displayPath());
    }
}
