package dev.pgshift.cli;

import dev.pgshift.ExitCode;
import dev.pgshift.Json;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.StopSignal;
import dev.pgshift.run.Phase;
import dev.pgshift.run.Plan;
import dev.pgshift.run.RollbackPlan;
import dev.pgshift.run.RunService;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** pgshift plan: what would run; changes nothing. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        header = "Show applied and pending migrations and each one's mode; changes nothing.",
        description = "Mode: 'transaction' (the file runs in one transaction and rolls back whole on error) or "
                + "'outside transaction' (statements PostgreSQL refuses in a transaction block, run one by one) or "
                + "'own transactions' (the file's own BEGIN/COMMIT decide; what it committed before a failure stays).")
class PlanCommand implements Callable<Integer> {
    @Option(names = "--json", description = "print the plan as JSON on stdout (logs stay on stderr)")
    boolean json;

    @Option(names = "--exit-code", description = "for CI gates: exit 10 when migrations are pending (or to adopt), 0 when the "
            + "database is up to date; problems exit as run would (3, 75)")
    boolean exitCode;

    @Option(names = "--rollback", description = "show what rollback --to VERSION would run instead")
    boolean rollback;

    @Option(names = "--to", paramLabel = "VERSION", description = "with --rollback: the version to return to")
    String to;

    // Settings groups, listed in --help after this command's own options.
    @Mixin
    ConnectionOptions connection;

    @Mixin
    MigrationOptions migrations;

    @Mixin
    PendingOptions pending;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        StopSignal stop = new StopSignal();
        stop.install();
        if (rollback && to == null) {
            throw new PgshiftException(ExitCode.CONFIG, "plan --rollback needs --to VERSION");
        }
        if (!rollback && to != null) {
            // a usage error (exit 2), not a plan of something else: the forward plan would answer another question
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "plan --to VERSION needs --rollback: plan --rollback --to "
                    + to + " shows what rollback --to " + to + " would run (plan alone shows the forward plan)");
        }
        RunService service = new RunService(connection.resolve(migrations, pending), stop, VersionProvider.version(), new RunService.Options(Phase.ALL, false, to));
        PrintWriter out = spec.commandLine().getOut();
        if (rollback) {
            RollbackPlan plan = service.planRollback();
            if (json) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("to", plan.to());
                doc.put("rollBack", plan.scripts().stream().map(m -> Map.of("version", m.version(), "script", m.rollback().file().displayPath(),
                        "mode", m.rollback().mode().label())).toList());
                doc.put("missing", plan.missing());
                out.println(Json.MAPPER.writeValueAsString(doc));
            } else {
                Rendering.rollbackPlan(out, plan);
            }
            out.flush();
            if (!plan.missing().isEmpty()) {
                throw new PgshiftException(ExitCode.CONFIG, "rollback --to " + to + " would be refused: no rollback script for "
                        + String.join(", ", plan.missing()));
            }
        } else {
            Plan plan = service.plan();
            if (json) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("database", plan.database());
                doc.put("currentVersion", plan.currentVersion());
                doc.put("pending", plan.pending().size());
                doc.put("migrations", plan.migrations());
                doc.put("lint", plan.lint());
                doc.put("notes", java.util.stream.Stream.concat(plan.adoption().notes().stream(), plan.notes().stream()).toList());
                doc.put("skipped", plan.skipped());
                out.println(Json.MAPPER.writeValueAsString(doc));
            } else {
                Rendering.plan(out, plan);
            }
            out.flush();
            plan.refuseLint();
            return exitCode && plan.changes() ? ExitCode.PENDING.code() : 0;
        }
        out.flush();
        return 0;
    }
}
