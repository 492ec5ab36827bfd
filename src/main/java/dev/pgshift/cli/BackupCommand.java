package dev.pgshift.cli;

import dev.pgshift.run.RunService;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** pgshift backup: a verified backup now, whatever is pending. */
@Command(name = "backup", mixinStandardHelpOptions = true,
        header = "Make a verified backup now (pg_dump custom format, read back whole, sha256, manifest, retention).",
        description = "Takes the run lock, so the backup shows one schema version. The dump goes to --backup-dir as "
                + "<UTC time>_<database>_<key>_<run>.dump (key: 12 hex digits of host:port/database, so databases and servers "
                + "may share the directory) with <file>.manifest.json beside it, mode 0600; --backup-keep counts this database's "
                + "backups only. pg_dump must be of the server's "
                + "major version or newer (exit 4 otherwise). With --backup-method restore-point: a restore point in the "
                + "server's archived WAL instead, proven archived, no file ('pgshift restore --show-recipe' says how to recover to it).")
class BackupCommand implements Callable<Integer> {
    // Settings groups, listed in --help after this command's own options.
    @Mixin
    ConnectionOptions connection;

    @Mixin
    LockOptions lock;

    @Mixin
    BackupOptions backup;

    @Mixin
    PgDumpOption pgDump;

    @Mixin
    ReportOptions report;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return RunCommand.execute(spec, connection.resolve(lock, backup, pgDump, report), RunService.Options.defaults(), RunService::backupOnly);
    }
}
