package dev.pgshift.cli;

import dev.pgshift.run.Phase;
import dev.pgshift.run.RunService;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** pgshift rollback --to VERSION. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
        header = "Roll back to a version with the rollback scripts kept beside the migrations (backs up first).",
        description = {"Each migration above --to needs its rollback script: <name>.rollback.sql beside a file migration, down.sql in "
                + "a Prisma folder. A missing one refuses the rollback before anything changes (exit 3). Scripts run newest first; a "
                + "transactional one runs in one transaction with the removal of its migration's history row; a non-transactional "
                + "one (DROP INDEX CONCURRENTLY) runs statement by statement and is safe to run again. A failure exits 5.",
            "See what it would do with: pgshift plan --rollback --to VERSION"})
class RollbackCommand implements Callable<Integer> {
    @Option(names = "--to", required = true, paramLabel = "VERSION", description = "the version to return to (0: before the first)")
    String to;

    // Settings groups, listed in --help after this command's own options.
    @Mixin
    ConnectionOptions connection;

    @Mixin
    MigrationOptions migrations;

    @Mixin
    LockOptions lock;

    @Mixin
    BackupOptions backup;

    @Mixin
    PgDumpOption pgDump;

    @Mixin
    VerifyOptions verify;

    @Mixin
    ReportOptions report;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return RunCommand.execute(spec, connection.resolve(migrations, lock, backup, pgDump, verify, report), new RunService.Options(Phase.ALL, false, to), RunService::rollback);
    }
}
