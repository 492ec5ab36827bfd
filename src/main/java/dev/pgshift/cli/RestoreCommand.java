package dev.pgshift.cli;

import dev.pgshift.backup.BackupManifest;
import dev.pgshift.backup.RestoreService;
import dev.pgshift.config.Settings;
import dev.pgshift.db.Database;
import dev.pgshift.db.DatabaseWaiter;
import dev.pgshift.db.StopSignal;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** pgshift restore: a backup into a new database (or, explicitly, over the live one). */
@Command(name = "restore", mixinStandardHelpOptions = true,
        header = "Restore a backup into a new database; checks its sha256 against the manifest first.",
        description = "The connection settings name the server (and the database to connect to); the backup goes into a new "
                + "database, <database>_restored_<time> or --into NAME. Only --overwrite-live restores over the configured database.")
class RestoreCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "BACKUP", description = "the .dump file (its .manifest.json must be beside it)")
    Path backup;

    @Option(names = "--into", paramLabel = "NAME", description = "database to create and restore into")
    String into;

    @Option(names = {"-j", "--jobs"}, paramLabel = "N", defaultValue = "1", description = "parallel pg_restore jobs (default 1: one "
            + "transaction, all or nothing). More than 1 is faster for large backups, into a new database only; a failed restore drops it")
    int jobs;

    @Option(names = "--overwrite-live", description = "restore over the configured database itself: the backup's objects are dropped and recreated (objects made after the backup stay)")
    boolean overwriteLive;

    // Settings groups, listed in --help after this command's own options.
    @Mixin
    ConnectionOptions connection;

    @Mixin
    PgDumpOption pgDump;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Settings settings = connection.resolve(pgDump);
        BackupManifest manifest = RestoreService.checkedManifest(backup); // before connecting: a damaged file needs no server
        StopSignal stop = new StopSignal();
        stop.install();
        Database db = Database.of(settings, stop);
        try (Connection ignored = new DatabaseWaiter(db, stop).connect(settings.connectTimeout())) {
            String target = new RestoreService(settings.backup(), db).restore(backup, manifest, into, overwriteLive, jobs);
            spec.commandLine().getOut().println("restored " + backup.getFileName() + " into database " + target);
            spec.commandLine().getOut().flush();
        }
        return 0;
    }
}
