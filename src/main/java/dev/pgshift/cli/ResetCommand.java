package dev.pgshift.cli;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.Settings;
import dev.pgshift.run.RunService;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** pgshift reset: development only. */
@Command(name = "reset", mixinStandardHelpOptions = true,
        header = "Development: back up, drop and recreate the managed schema (--schema, default public), migrate from scratch.",
        description = {"Drops ONE schema, the managed one (--schema or the URL's ?schema=), with everything in it (CASCADE), "
                + "creates it again empty and runs every migration. What survives: every other schema of the database (pgshift's "
                + "own run history in schema pgshift included), roles, extensions installed in other schemas, and the backup taken "
                + "first. Refuses unless --confirm names the database, so a reset never hits the wrong database."})
class ResetCommand implements Callable<Integer> {
    @Option(names = "--confirm", paramLabel = "DATABASE", description = "the name of the database to empty; required")
    String confirm;

    // Settings groups, listed in --help after this command's own options.
    @Mixin
    MigratingOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Settings settings = options.resolve();
        String database = settings.connection().database();
        if (!database.equals(confirm)) {
            throw new PgshiftException(ExitCode.CONFIG, "reset drops schema " + settings.schema() + " of database " + database
                    + " with everything in it (other schemas stay): repeat the database's name with --confirm " + database + " to go on");
        }
        return RunCommand.execute(spec, settings, RunService.Options.defaults(), RunService::reset);
    }
}
