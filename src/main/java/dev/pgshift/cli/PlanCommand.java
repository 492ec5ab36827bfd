package dev.pgshift.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pgshift.db.StopSignal;
import dev.pgshift.run.Phase;
import dev.pgshift.run.RunService;
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
                + "'outside transaction' (statements PostgreSQL refuses in a transaction block, run one by one).")
public class PlanCommand implements Callable<Integer> {
    @Mixin
    SettingsOptions options;

    @Option(names = "--json", description = "print the plan as JSON on stdout (logs stay on stderr)")
    boolean json;

    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        StopSignal stop = new StopSignal();
        stop.install();
        RunService.Plan plan = new RunService(options.resolve(), stop, VersionProvider.version(), Phase.ALL).plan();
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("database", plan.database());
            doc.put("currentVersion", plan.currentVersion());
            doc.put("pending", plan.pending().size());
            doc.put("migrations", plan.migrations());
            doc.put("warnings", plan.warnings());
            spec.commandLine().getOut().println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
            spec.commandLine().getOut().flush();
        } else {
            Rendering.plan(spec.commandLine().getOut(), plan);
        }
        return 0;
    }
}
