package dev.pgshift.cli;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.StopSignal;
import dev.pgshift.migrate.Repair;
import dev.pgshift.report.RunResult;
import dev.pgshift.run.RepairService;
import dev.pgshift.source.Versions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** pgshift repair: the migration history after a failure or a deliberate edit; never runs migration SQL. */
@Command(name = "repair", mixinStandardHelpOptions = true,
        header = "After a failure or a deliberate edit: fix the migration history, recorded with a reason; runs no migration SQL.",
        description = {"Takes the run lock, changes pgshift's migration history (and _prisma_migrations where it exists) in one "
                + "transaction, and records the run in the history with its actions, --reason, the OS user and the host or pod "
                + "name (pgshift history). plan and run name the repair that fits when they stop on a drifted checksum or a "
                + "failed file."})
class RepairCommand implements Callable<Integer> {
    @Option(names = "--accept-checksum", paramLabel = "VERSION", description = "an applied file was edited on purpose (and the "
            + "database matches it): record the file's current checksum; repeatable")
    List<String> acceptChecksum = new ArrayList<>();

    @Option(names = "--rolled-back", paramLabel = "VERSION", description = "a failed migration was undone by hand: remove its failed "
            + "record (or mark Prisma's unfinished attempt rolled back), so the next run runs it again; repeatable")
    List<String> rolledBack = new ArrayList<>();

    @Option(names = "--applied", paramLabel = "VERSION", description = "a failed migration was finished by hand: record it as "
            + "applied, without running it; repeatable")
    List<String> applied = new ArrayList<>();

    @Option(names = "--reason", required = true, paramLabel = "TEXT", description = "why, for the run history; required")
    String reason;

    // Settings groups, listed in --help after this command's own options.
    @Mixin
    ConnectionOptions connection;

    @Mixin
    MigrationOptions migrations;

    @Mixin
    LockOptions lock;

    @Mixin
    ReportOptions report;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (reason.strip().equals(dev.pgshift.migrate.Repair.REASON_PLACEHOLDER)) {
            throw new PgshiftException(ExitCode.CONFIG, "--reason '" + reason.strip() + "' is the placeholder of the printed command: say why "
                    + "the history is changed; it is kept in the run history");
        }
        if (reason.isBlank()) {
            throw new PgshiftException(ExitCode.CONFIG, "--reason is empty: say why the history is changed; it is kept in the run history");
        }
        List<Repair.Request> requests = new ArrayList<>();
        add(requests, Repair.Action.ACCEPT_CHECKSUM, acceptChecksum);
        add(requests, Repair.Action.ROLLED_BACK, rolledBack);
        add(requests, Repair.Action.APPLIED, applied);
        if (requests.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "repair needs something to do: --accept-checksum VERSION, --rolled-back VERSION "
                    + "or --applied VERSION (see pgshift repair --help)");
        }
        StopSignal stop = new StopSignal();
        stop.install();
        RepairService service = new RepairService(connection.resolve(migrations, lock, report), stop, VersionProvider.version());
        RunResult result = service.repair(requests, reason.strip());
        return RunCommand.printed(spec, result, ExitCodeHandler.verbose(spec) ? service.failure() : null);
    }

    private static void add(List<Repair.Request> requests, Repair.Action action, List<String> versions) {
        for (String v : versions) {
            if (!Versions.valid(v)) {
                throw new PgshiftException(ExitCode.CONFIG, "bad version '" + v + "' for " + action.flag() + ": " + Versions.EXPECTED);
            }
            requests.add(new Repair.Request(action, v));
        }
    }
}
