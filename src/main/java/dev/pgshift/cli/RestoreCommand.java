package dev.pgshift.cli;

import dev.pgshift.backup.BackupManifest;
import dev.pgshift.ExitCode;
import dev.pgshift.Json;
import dev.pgshift.PgshiftException;
import dev.pgshift.backup.RestoreRecipe;
import dev.pgshift.backup.RestoreService;
import dev.pgshift.config.OwnTables;
import dev.pgshift.report.HistoryTable;
import java.sql.SQLException;
import picocli.CommandLine.ParameterException;
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
        description = {"The connection settings name the server (and the database to connect to); the backup goes into a new "
                + "database, <database>_restored_<time> or --into NAME. Only --overwrite-live restores over the configured database.",
                "A restore point (--backup-method restore-point) is recovered by the tool that keeps the WAL archive, into a new cluster: "
                        + "'pgshift restore --show-recipe' prints how (pgBackRest, CloudNativePG, plain PostgreSQL, a managed service) "
                        + "for the newest restore point in the database's run history; it only reads."})
class RestoreCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "BACKUP", description = "the .dump file (its .manifest.json must be beside it)")
    Path backup;

    @Option(names = "--show-recipe", description = "print how to recover to a restore point pgshift made (the newest in the run history, "
            + "or --restore-point NAME); reads the history, changes nothing")
    boolean showRecipe;

    @Option(names = "--restore-point", paramLabel = "NAME", description = "with --show-recipe: the restore point, as the run's summary "
            + "or 'pgshift history' names it")
    String restorePoint;

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
        if (showRecipe) {
            return showRecipe();
        }
        if (restorePoint != null) {
            throw new ParameterException(spec.commandLine(), "--restore-point NAME goes with --show-recipe: pgshift restore --show-recipe "
                    + "--restore-point " + restorePoint + " (a restore point is recovered by the tool that keeps the WAL archive)");
        }
        if (backup == null) {
            throw new ParameterException(spec.commandLine(), "missing BACKUP: the .dump file to restore, or --show-recipe for a restore point");
        }
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

    /** The recipe for a restore point from the run history: one read-only query, no lock. */
    private int showRecipe() throws Exception {
        if (backup != null || into != null || overwriteLive || jobs != 1) {
            throw new ParameterException(spec.commandLine(), "--show-recipe takes no BACKUP, --into, --jobs or --overwrite-live: it prints how to "
                    + "recover to a restore point (which the tool keeping the WAL archive does); a .dump file is restored with "
                    + "'pgshift restore FILE'");
        }
        Settings settings = connection.resolve(pgDump);
        StopSignal stop = new StopSignal();
        stop.install();
        Database db = Database.of(settings, stop);
        String found;
        java.util.List<String> known;
        try (Connection c = new DatabaseWaiter(db, stop).connect(settings.connectTimeout())) {
            HistoryTable history = new HistoryTable();
            found = history.restorePoint(c, restorePoint);
            known = found == null ? history.restorePointNames(c, 10) : java.util.List.of();
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the run history: " + e.getMessage(), e);
        }
        if (found == null) {
            String where = " in the run history of " + settings.connection().describe() + " (" + OwnTables.SCHEMA + "." + OwnTables.RUN_HISTORY + ")";
            throw new PgshiftException(ExitCode.CONFIG, known.isEmpty()
                    ? "no restore point" + (restorePoint == null ? "" : " named '" + restorePoint + "'") + where + ": pgshift makes one with "
                            + "--backup-method restore-point (or auto); 'pgshift history' lists the runs and their backups"
                    : "no restore point named '" + restorePoint + "'" + where + "; the newest there: " + String.join(", ", known));
        }
        BackupManifest manifest = Json.MAPPER.readerFor(BackupManifest.class)
                .without(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(found);
        spec.commandLine().getOut().print(RestoreRecipe.of(manifest));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
