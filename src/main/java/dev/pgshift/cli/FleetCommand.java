package dev.pgshift.cli;

import dev.pgshift.fleet.FleetRunner;
import dev.pgshift.fleet.FleetView;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** pgshift fleet: one release over many tenant databases, a shard per pod of a Kubernetes Indexed Job. */
@Command(name = "fleet", mixinStandardHelpOptions = true,
        header = "Migrate many tenant databases as one release: plan, run (a shard per pod of an Indexed Job), status.",
        description = {"The connection settings name the control database: it lists the tenants (--tenants-sql) and holds the release's "
                + "frozen list and each tenant's outcome (schema pgshift). Each tenant gets the whole routine of pgshift run.",
            "fleet run exits 0 when its shard's tenants succeeded, 20 when one failed (the others were done: the chart's "
                    + "podFailurePolicy fails that index), 21 when the release halted (it fails the Job), 75 to be retried."},
        subcommands = {FleetCommand.Plan.class, FleetCommand.Run.class, FleetCommand.Status.class})
final class FleetCommand {

    @Command(name = "plan", mixinStandardHelpOptions = true,
            header = "Show the release's waves and shards, as frozen or as fleet run would freeze them now; changes nothing.")
    static final class Plan implements Callable<Integer> {
        @Option(names = "--json", description = "one JSON line per tenant: its position, wave and shard")
        boolean json;

        @Mixin
        FleetOptions.Release release;

        @Mixin
        FleetOptions.Tenants tenants;

        @Mixin
        ConnectionOptions connection;

        @Mixin
        MigrationOptions migrations;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            return new FleetView(connection.resolve(release, tenants, migrations), spec.commandLine().getOut()).plan(json);
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            header = "Run one shard of the release: each of its tenants through backup, migrate, verify and report, wave by wave.",
            description = "Freezes the release if no process has. Waits for each wave to end on every shard before the next. Reruns skip "
                    + "tenants that succeeded, and those that failed unless --retry-failed; a killed process's tenants are run again by the "
                    + "next process of its shard, which waits for the shard's lock first (each tenant's own run lock and history make a "
                    + "second run apply nothing twice).")
    static final class Run implements Callable<Integer> {
        @Option(names = "--retry-failed", description = "also run again the shard's tenants that failed in this release (a failure is "
                + "otherwise final: an index Kubernetes retries after 75 does not run them again)")
        boolean retryFailed;

        @Mixin
        FleetOptions.Release release;

        @Mixin
        FleetOptions.Tenants tenants;

        @Mixin
        FleetOptions.Shard shard;

        @Mixin
        MigratingOptions options;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            FleetRunner runner = new FleetRunner(options.resolve(release, tenants, shard), VersionProvider.version(), spec.commandLine().getOut(),
                    retryFailed);
            dev.pgshift.PgshiftException failure = runner.run();
            if (failure != null) {
                ErrorOutput.print(spec.commandLine().getErr(), failure.getMessage(), ExitCodeHandler.verbose(spec) ? failure : null);
            }
            return runner.exitCode();
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            header = "The release's roll-up: counts by status, version and error, durations, the tenants that did not succeed; changes nothing.")
    static final class Status implements Callable<Integer> {
        @Option(names = "--json", description = "one JSON line per tenant")
        boolean json;

        @Option(names = "--exit-code", description = "for CI gates: exit 21 when the release is halted, 20 when a tenant failed, 10 when "
                + "tenants have not succeeded yet (pending, running, to retry), 0 when all succeeded")
        boolean exitCode;

        @Mixin
        FleetOptions.Release release;

        @Mixin
        ConnectionOptions connection;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            return new FleetView(connection.resolve(release), spec.commandLine().getOut()).status(json, exitCode);
        }
    }
}
