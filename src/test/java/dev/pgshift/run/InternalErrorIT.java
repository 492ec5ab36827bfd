package dev.pgshift.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgshift.config.Setting;
import dev.pgshift.config.Settings;
import dev.pgshift.config.SettingsResolver;
import dev.pgshift.db.StopSignal;
import dev.pgshift.report.RunResult;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failure that is not one of pgshift's own (a bug) still ends like any failed run: exit 1 with the report file, the
 * termination message and the history row written. The bug is injected by handing the pipeline settings no resolver
 * produces (no backup settings), which fails inside the backup phase, after the run reached the database.
 */
class InternalErrorIT {
    @TempDir
    Path tmp;

    @Test
    void anUnexpectedExceptionExits1WithReportTerminationMessageAndHistoryRow() throws Exception {
        TestDb db = PgServer.get().newDatabase("internal");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(dir.resolve("V1__t.sql"), "CREATE TABLE t (id int);\n");
        Path report = tmp.resolve("report.json");
        Path termination = tmp.resolve("termination-log");
        Settings s = new SettingsResolver(db.env()).resolve(Map.of(Setting.MIGRATIONS, dir.toString(), Setting.BUNDLED, "false",
                Setting.REPORT_FILE, report.toString(), Setting.TERMINATION_LOG, termination.toString(), Setting.BACKUP_DIR,
                tmp.resolve("backups").toString(), Setting.PG_DUMP, dev.pgshift.testing.PgClients.pgDump().toString()), null);
        Settings broken = new Settings(s.connection(), s.migrationDirs(), s.bundled(), s.connectTimeout(), s.networkTimeout(), s.lockWait(), s.schema(),
                s.lockTimeout(), s.lockRetries(), null, s.backup(), s.verify(), s.reportFile(), s.terminationLog(),
                s.adoptThrough(), s.adoptIgnoreChecksums(), s.outOfOrder(), s.lint(), s.fleet());

        RunResult r = new RunService(broken, new StopSignal(), "test", RunService.Options.defaults()).migrate("run");

        assertEquals(1, r.exitCode(), String.valueOf(r.error()));
        assertTrue(r.error().startsWith("internal error: java.lang.NullPointerException"), r.error());
        assertTrue(Files.readString(report).matches("(?s).*\"exitCode\"\\s*:\\s*1\\b.*"), Files.readString(report));
        assertTrue(Files.readString(termination).contains("internal error"), Files.readString(termination));
        assertEquals(List.of(List.of("run", "FAILED")), db.query("select command, outcome from pgshift.run_history"));
        assertEquals(List.of(), db.appliedVersions());
    }
}
