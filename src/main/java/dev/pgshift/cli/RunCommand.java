package dev.pgshift.cli;

import dev.pgshift.config.Settings;
import dev.pgshift.db.StopSignal;
import dev.pgshift.report.RunResult;
import dev.pgshift.run.Phase;
import dev.pgshift.run.RunService;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** pgshift run: the whole job. */
@Command(name = "run", mixinStandardHelpOptions = true,
        header = "The whole job: preflight, run lock, plan, backup, migrate, verify, report; prints a summary.",
        description = "Waits for the database (--connect-timeout), takes the run lock (one run per database; waits --lock-wait), "
                + "applies what is pending and prints what it did. Nothing pending: exits 0 at once.")
class RunCommand implements Callable<Integer> {
    @Option(names = "--phase", paramLabel = "PHASE", defaultValue = "all", description = "pre: everything but the concurrent builds "
            + "at the end of the pending list; post: only those (after pre); all: everything (default). Valid values: ${COMPLETION-CANDIDATES}")
    Phase phase;

    @Option(names = "--rehearse", description = "first restore the fresh backup into a scratch database on the same server, "
            + "migrate and verify it there, drop it; only then migrate the real database (needs CREATEDB). A failure there leaves the "
            + "real database untouched and exits with the failing phase's code.")
    boolean rehearse;

    // Settings groups, listed in --help after this command's own options.
    @Mixin
    MigratingOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return execute(spec, options.resolve(), new RunService.Options(phase, rehearse, null), s -> s.migrate("run"));
    }

    /** Runs one pipeline and prints its summary; the exit code is the run's. */
    static int execute(CommandSpec spec, Settings settings, RunService.Options runOptions,
            java.util.function.Function<RunService, RunResult> body) {
        StopSignal stop = new StopSignal();
        stop.install();
        RunService service = new RunService(settings, stop, VersionProvider.version(), runOptions);
        RunResult result = body.apply(service);
        return printed(spec, result, ExitCodeHandler.verbose(spec) ? service.failure() : null);
    }

    /** Prints a run's summary on stdout and its error on stderr (with {@code trace}'s stack, if any); the exit code is the run's. */
    static int printed(CommandSpec spec, RunResult result, Throwable trace) {
        Rendering.summary(spec.commandLine().getOut(), result);
        if (result.error() != null) {
            ErrorOutput.print(spec.commandLine().getErr(), result.error(), trace);
        }
        return result.exitCode();
    }
}
