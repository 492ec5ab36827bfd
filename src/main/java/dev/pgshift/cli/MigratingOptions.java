package dev.pgshift.cli;

import dev.pgshift.config.Settings;
import picocli.CommandLine.Mixin;

/** Every settings group: the commands that back up, migrate, verify and report (run, migrate, reset). */
final class MigratingOptions {
    @Mixin
    ConnectionOptions connection;

    @Mixin
    MigrationOptions migrations;

    @Mixin
    PendingOptions pending;

    @Mixin
    LockOptions lock;

    @Mixin
    DdlOptions ddl;

    @Mixin
    BackupOptions backup;

    @Mixin
    PgDumpOption pgDump;

    @Mixin
    VerifyOptions verify;

    @Mixin
    ReportOptions report;

    Settings resolve() {
        return connection.resolve(migrations, pending, lock, ddl, backup, pgDump, verify, report);
    }
}
