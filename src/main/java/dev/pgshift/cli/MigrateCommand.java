package dev.pgshift.cli;

import dev.pgshift.run.Phase;
import dev.pgshift.run.RunService;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** pgshift migrate: apply pending migrations only. */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        header = "Apply pending migrations (same run lock and concurrent-step handling as run).")
class MigrateCommand implements Callable<Integer> {
    @Option(names = "--phase", paramLabel = "PHASE", defaultValue = "all", description = "pre, post or all (default); see run --help")
    Phase phase;

    // Settings groups, listed in --help after this command's own options.
    @Mixin
    MigratingOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return RunCommand.execute(spec, options.resolve(), new RunService.Options(phase, false, null), s -> s.migrate("migrate"));
    }
}
