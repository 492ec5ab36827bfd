package dev.pgshift.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgshift.ExitCode;
import dev.pgshift.Json;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.OwnTables;
import dev.pgshift.config.Settings;
import dev.pgshift.db.Database;
import dev.pgshift.db.DatabaseWaiter;
import dev.pgshift.db.StopSignal;
import dev.pgshift.report.HistoryTable;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** pgshift history: past runs recorded in the database. */
@Command(name = "history", mixinStandardHelpOptions = true, header = "List past runs recorded in the database, newest first.")
class HistoryCommand implements Callable<Integer> {
    @Option(names = "--limit", defaultValue = "20", paramLabel = "N", description = "how many runs (default 20)")
    int limit;

    @Option(names = "--json", description = "print the full reports as a JSON array")
    boolean json;

    // Settings groups, listed in --help after this command's own options.
    @Mixin
    ConnectionOptions connection;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (limit < 1) {
            throw new PgshiftException(ExitCode.CONFIG, "bad value " + limit + " for --limit: expected 1 or more runs");
        }
        Settings settings = connection.resolve();
        StopSignal stop = new StopSignal();
        stop.install();
        Database db = Database.of(settings, stop);
        List<HistoryTable.Entry> entries;
        try (Connection c = new DatabaseWaiter(db, stop).connect(settings.connectTimeout())) {
            entries = new HistoryTable().list(c, limit);
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "cannot read the history: " + e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            List<JsonNode> reports = new ArrayList<>();
            for (HistoryTable.Entry e : entries) {
                reports.add(Json.MAPPER.readTree(e.report()));
            }
            out.println(Json.MAPPER.writeValueAsString(reports));
        } else if (entries.isEmpty()) {
            out.println("no runs recorded in " + OwnTables.SCHEMA + "." + OwnTables.RUN_HISTORY);
        } else {
            Rendering.history(out, entries);
        }
        out.flush();
        return 0;
    }
}
