package dev.pgshift.cli;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.run.RunService;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** pgshift reset: development only. */
@Command(name = "reset", mixinStandardHelpOptions = true,
        header = "Development: back up, drop and recreate the managed schema, migrate from scratch.",
        description = "Refuses unless --confirm names the database it would empty, so a reset never hits the wrong database.")
public class ResetCommand implements Callable<Integer> {
    @Option(names = "--confirm", paramLabel = "DATABASE", description = "the name of the database to empty; required")
    String confirm;

    /** Connection and the other settings, listed after this command's own options. */
    @Mixin
    SettingsOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        String database = options.resolve().connection().database();
        if (!database.equals(confirm)) {
            throw new PgshiftException(ExitCode.CONFIG, "reset drops everything in database " + database + ": repeat its name with --confirm "
                    + database + " to go on");
        }
        return RunCommand.execute(spec, options, RunService.Options.defaults(), RunService::reset);
    }
}
