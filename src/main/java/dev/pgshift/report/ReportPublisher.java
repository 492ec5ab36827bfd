package dev.pgshift.report;

import dev.pgshift.Json;
import dev.pgshift.PrivateFiles;
import dev.pgshift.config.OwnTables;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Publishes a run's report everywhere it must outlive the run: the JSON file, the Kubernetes termination message, and
 * the history table. A channel that fails is logged and does not change the run's exit code.
 */
public final class ReportPublisher {
    private static final Logger LOG = Logger.getLogger(ReportPublisher.class);

    private final Path reportFile;
    private final Path terminationLog;

    public ReportPublisher(Path reportFile, Path terminationLog) {
        this.reportFile = reportFile;
        this.terminationLog = terminationLog;
    }

    /**
     * Writes the JSON report file (its directory made 0700 where missing) and the termination message (where its directory
     * exists), both 0600; a file that cannot be written is logged and does not stop the other. Each is made only when its
     * file is to be written.
     *
     * @param report  what the report file holds, as JSON
     * @param compact the termination message
     */
    public void writeFiles(Object report, Supplier<String> compact) {
        if (reportFile != null) {
            try {
                Path parent = reportFile.toAbsolutePath().getParent();
                if (parent != null) {
                    PrivateFiles.createDirectories(parent);
                }
                PrivateFiles.write(reportFile, Json.MAPPER.writeValueAsBytes(report));
            } catch (IOException e) {
                LOG.errorf("cannot write the report file %s: %s", reportFile, e.getMessage());
            }
        }
        if (terminationLog != null && terminationLog.toAbsolutePath().getParent() != null
                && Files.isDirectory(terminationLog.toAbsolutePath().getParent())) {
            try {
                PrivateFiles.write(terminationLog, compact.get().getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                LOG.errorf("cannot write the termination message %s: %s", terminationLog, e.getMessage());
            }
        }
    }

    /** @param connection opens a session for the history row, or returns null when the database was never reached */
    public void publish(RunResult result, Supplier<Connection> connection) {
        Report report = Report.of(result);
        writeFiles(report, () -> CompactReport.of(report));
        Connection c = null;
        try {
            c = connection.get();
        } catch (RuntimeException e) {
            LOG.errorf("cannot record the run in %s.%s: %s (the report file and the summary have it)", OwnTables.SCHEMA,
                    OwnTables.RUN_HISTORY, e.getMessage());
            return;
        }
        try {
            if (c != null) {
                new HistoryTable().write(c, report);
            }
        } catch (SQLException | RuntimeException e) {
            String state = e instanceof SQLException s ? s.getSQLState() : null;
            LOG.errorf("cannot record the run in %s.%s (%s): %s", OwnTables.SCHEMA, OwnTables.RUN_HISTORY, state != null && state.startsWith("08")
                    ? "the connection was lost" : "25006".equals(state) ? "the server or session is read-only"
                    : "the user needs CREATE on the database, or create schema " + OwnTables.SCHEMA + " for it", e.getMessage());
        } finally {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException e) {
                    // nothing left to do
                }
            }
        }
    }
}
