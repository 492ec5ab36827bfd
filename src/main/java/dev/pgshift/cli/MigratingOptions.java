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

    Settings resolve(SettingFlags... more) {
        java.util.List<SettingFlags> groups = new java.util.ArrayList<>(java.util.List.of(migrations, pending, lock, ddl, backup, pgDump, verify, report));
        groups.addAll(java.util.List.of(more));
        return connection.resolve(groups.toArray(SettingFlags[]::new));
    }
}
