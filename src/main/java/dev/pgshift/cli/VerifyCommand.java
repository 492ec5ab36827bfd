package dev.pgshift.cli;

import dev.pgshift.db.StopSignal;
import dev.pgshift.run.Phase;
import dev.pgshift.run.RunResult;
import dev.pgshift.run.RunService;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** pgshift verify: the post-migration checks alone. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        header = "Run the post-migration checks alone; changes nothing (exit 6 when one fails).",
        description = {"Checks: applied checksums match the files; no failed rows in the history; no INVALID index among those "
                + "the migrations made (other INVALID indexes warn, --allow-invalid-index); no constraint left NOT VALID "
                + "(--allow-not-valid); the latest migration applied; and each verify script (bundled db/verify and "
                + "--verify-scripts DIR) returns no rows."})
public class VerifyCommand implements Callable<Integer> {
    @Mixin
    SettingsOptions options;

    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        StopSignal stop = new StopSignal();
        stop.install();
        RunResult result = new RunService(options.resolve(), stop, VersionProvider.version(), Phase.ALL).verifyOnly();
        Rendering.summary(spec.commandLine().getOut(), result);
        if (result.error() != null) {
            spec.commandLine().getErr().println("pgshift: " + result.error());
        }
        return result.exitCode();
    }
}
