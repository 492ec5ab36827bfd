package dev.pgshift.migrate;

import dev.pgshift.PgshiftException;
import dev.pgshift.db.StopSignal;
import dev.pgshift.source.ExecutionMode;
import dev.pgshift.source.MigrationScript;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import java.util.Objects;
import java.util.zip.CRC32;
import org.flywaydb.core.api.CoreMigrationType;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.executor.MigrationExecutor;
import org.flywaydb.core.api.resolver.MigrationResolver;
import org.flywaydb.core.api.resolver.ResolvedMigration;
import org.flywaydb.core.extensibility.MigrationType;
import org.flywaydb.core.internal.jdbc.Results;

/**
 * Everything pgshift hands to Flyway, in one class: each migration of pgshift's stream as a resolved migration with
 * pgshift's own executor. Flyway keeps the order, the history table and checksum validation; pgshift runs every
 * statement ({@link StatementRunner}). The migrations are recorded as type SQL, under the script name, description and
 * checksum Flyway itself would have recorded for the file, so histories written before stay valid and stay Flyway's.
 * The only Flyway types used beyond its public API are named here ({@code Results} in the executor's signature); the
 * checksum rule is Flyway's and FlywayBridgeTest fails if a Flyway upgrade changes it.
 */
final class FlywayBridge implements MigrationResolver {
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(Migrator.class); // the migrate stage speaks for it
    private final List<MigrationScript> scripts;
    private final StopSignal stop;
    private final Duration builderWait;
    private final String schema;
    private final Consumer<String> started;

    /** @param started told each version whose execution begins, in order */
    FlywayBridge(List<MigrationScript> scripts, StopSignal stop, Duration builderWait, String schema, Consumer<String> started) {
        this.scripts = scripts;
        this.stop = stop;
        this.builderWait = builderWait;
        this.schema = schema;
        this.started = started;
    }

    @Override
    public Collection<ResolvedMigration> resolveMigrations(MigrationResolver.Context context) {
        return scripts.stream().map(s -> (ResolvedMigration) new Resolved(s, new Executor(s, this))).toList();
    }

    /**
     * Flyway's checksum of a SQL migration: CRC32 over the file's lines (UTF-8, without line terminators, a leading byte
     * order mark dropped), as a signed int.
     */
    static int checksum(String content) {
        CRC32 crc = new CRC32();
        try (BufferedReader r = new BufferedReader(new StringReader(content))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isEmpty() && line.charAt(0) == '\uFEFF') {
                    line = line.substring(1);
                }
                crc.update(line.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return (int) crc.getValue();
    }

    /**
     * The description Flyway records: the part of the Flyway-style name after "__" with underscores as spaces. Scripts
     * that ran outside a transaction were recorded with their own description (pgshift's earlier resolver), so they
     * keep it.
     */
    static String description(MigrationScript s) {
        if (s.mode() == ExecutionMode.OUTSIDE) {
            return s.description().isEmpty() ? "migration" : s.description().replace('_', ' ');
        }
        String name = s.flywayName();
        return name.substring(name.indexOf("__") + 2, name.length() - ".sql".length()).replace('_', ' ');
    }

    /** One migration as Flyway sees it. */
    private static final class Resolved implements ResolvedMigration {
        private final MigrationScript script;
        private final Executor executor;
        private final MigrationVersion version;
        private final int checksum;

        Resolved(MigrationScript script, Executor executor) {
            this.script = script;
            this.executor = executor;
            this.version = MigrationVersion.fromVersion(script.version());
            this.checksum = checksum(script.file().content());
        }

        @Override
        public MigrationVersion getVersion() {
            return version;
        }

        @Override
        public String getDescription() {
            return description(script);
        }

        @Override
        public String getScript() {
            return script.flywayName();
        }

        @Override
        public Integer getChecksum() {
            return checksum;
        }

        @Override
        public MigrationType getType() {
            return CoreMigrationType.SQL;
        }

        @Override
        public String getPhysicalLocation() {
            return script.file().displayPath();
        }

        @Override
        public MigrationExecutor getExecutor() {
            return executor;
        }

        @Override
        public boolean checksumMatches(Integer other) {
            return Objects.equals(other, checksum);
        }

        @Override
        public boolean checksumMatchesWithoutBeingIdentical(Integer other) {
            return false;
        }
    }

    /** Runs one migration's statements through pgshift's statement runner, in the mode its statements decided. */
    private static final class Executor implements MigrationExecutor {
        private final MigrationScript script;
        private final FlywayBridge bridge;

        Executor(MigrationScript script, FlywayBridge bridge) {
            this.script = script;
            this.bridge = bridge;
        }

        /**
         * Runs the migration. The run lock is checked first and, for a transactional migration, again before Flyway
         * commits it: a run that lost its lock commits nothing more.
         */
        @Override
        public List<Results> execute(org.flywaydb.core.api.executor.Context context) throws SQLException {
            StopSignal stop = bridge.stop;
            stop.checkStop("before " + script.version() + " (" + script.file().displayPath() + ")");
            stop.checkRunLock("before " + script.version() + " (" + script.file().displayPath() + ")");
            bridge.started.accept(script.version());
            Connection c = context.getConnection();
            LOG.infof("applying %s: %s (%s)", script.version(), script.file().displayPath(), script.mode().label());
            StatementRunner runner = new StatementRunner(script.file(), stop);
            switch (script.mode()) {
                case TRANSACTION -> {
                    StatementRunner.sessionAsPsqlGivesIt(c);
                    runner.runAll(c, script.statements(), ExecutionMode.TRANSACTION);
                    stop.checkRunLock("before committing " + script.version() + " (" + script.file().displayPath() + "; rolled back)");
                }
                case OWN -> {
                    StatementRunner.sessionAsPsqlGivesIt(c);
                    try {
                        runner.runOwnTransactions(c, script.statements());
                    } catch (PgshiftException e) {
                        // Handed to Flyway as an SQLException, the one kind it records as a failed migration: the next run
                        // must find that record (see Migrator#clearFailedSteps). pgshift's message and exit code travel as the cause.
                        throw new SQLException(e.getMessage(), e);
                    }
                }
                // A failed concurrent step leaves no record: it is idempotent, and the next run resumes it.
                case OUTSIDE -> new ConcurrentStep(script.file(), script.statements(), stop, bridge.builderWait).run(c);
            }
            PrismaAdoption.recordApplied(c, bridge.schema, script);
            return List.of();
        }

        @Override
        public boolean canExecuteInTransaction() {
            return script.mode() == ExecutionMode.TRANSACTION;
        }

        @Override
        public boolean shouldExecute() {
            return true;
        }
    }
}
