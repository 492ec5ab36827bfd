package dev.pgshift.cli;

import dev.pgshift.run.RunService;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** pgshift verify: the post-migration checks alone. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        header = "Run the post-migration checks alone; changes nothing (exit 6 when one fails).",
        description = {"Checks: applied checksums match the files; no failed rows in the history; no INVALID index among those "
                + "the migrations made (other INVALID indexes warn, --allow-invalid-index); no constraint left NOT VALID "
                + "(--allow-not-valid); the latest migration applied; and each verify script (bundled db/verify and "
                + "--verify-scripts DIR) returns no rows."})
class VerifyCommand implements Callable<Integer> {
    // Settings groups, listed in --help after this command's own options.
    @Mixin
    ConnectionOptions connection;

    @Mixin
    MigrationOptions migrations;

    @Mixin
    VerifyOptions verify;

    @Mixin
    ReportOptions report;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return RunCommand.execute(spec, connection.resolve(migrations, verify, report), RunService.Options.defaults(), RunService::verifyOnly);
    }
}
