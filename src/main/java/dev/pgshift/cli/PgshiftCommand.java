package dev.pgshift.cli;

import io.quarkus.picocli.runtime.annotations.TopCommand;
import java.util.List;
import picocli.CommandLine.Command;

/** The root command: the subcommands, the standard help and version options, and the exit codes. */
@TopCommand
@Command(name = "pgshift", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        header = "Back up, migrate, verify and report: the PostgreSQL migration job for Kubernetes.",
        description = {
            "Runs migrations from Flyway V-files, YYYY-MM-DD_HHMMSS_description.sql files and Prisma folders as one ordered "
                    + "stream. Statements PostgreSQL refuses in a transaction (CREATE INDEX CONCURRENTLY, ...) run outside one.",
            "Settings: flags, then environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT, "
                    + "PGSHIFT_*), then the --config file. Logs go to stderr; stdout carries only what a command is asked for."},
        commandListHeading = "%nCommands:%n",
        exitCodeListHeading = "%nExit codes:%n")
final class PgshiftCommand {
    /** The subcommands, in the order --help lists them ({@link CommandLineSetup} adds them). */
    static final List<Class<?>> COMMANDS = List.of(RunCommand.class, PlanCommand.class, MigrateCommand.class, BackupCommand.class,
            RestoreCommand.class, VerifyCommand.class, HistoryCommand.class, RollbackCommand.class, RepairCommand.class, ResetCommand.class, FleetCommand.class);
}
