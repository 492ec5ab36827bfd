package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.db.StopSignal;
import dev.pgshift.run.AppliedMigration;
import dev.pgshift.source.MigrationScript;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.exception.FlywayValidateException;
import org.flywaydb.core.api.output.MigrateOutput;
import org.flywaydb.core.api.output.MigrateResult;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;

/** The migrate stage: plans and applies pgshift's migration stream with Flyway, which stays behind this class. */
public final class Migrator {
    public static final String HISTORY_TABLE = "flyway_schema_history";

    private final Flyway flyway;
    private final Map<String, MigrationScript> byName;
    private final StopSignal stop;

    public Migrator(DataSource dataSource, List<MigrationScript> scripts, String schema, StopSignal stop) {
        this.stop = stop;
        this.byName = scripts.stream().collect(Collectors.toMap(MigrationScript::flywayName, Function.identity()));
        FluentConfiguration config = Flyway.configure(Migrator.class.getClassLoader())
                .dataSource(dataSource)
                .resourceProvider(new ScriptResources(scripts))
                .javaMigrationClassProvider(List::of)
                .skipDefaultCallbacks(true)
                .defaultSchema(schema)
                .schemas(schema)
                .table(HISTORY_TABLE)
                .placeholderReplacement(false)
                .mixed(true) // pgshift's tokenizer decides each file's mode and refuses real mixes; see ScriptResources
                .cleanDisabled(true)
                .validateMigrationNaming(true)
                // pending: validate runs before migrate; future: a newer release already migrated this database
                .ignoreMigrationPatterns("*:pending", "*:future")
                .connectRetries(0);
        // Flyway's default transaction-level advisory lock makes CREATE INDEX CONCURRENTLY wait forever for Flyway's
        // own open transaction (flyway/flyway#3497). Without it Flyway polls pg_try_advisory_lock on a session lock.
        config.getPluginRegister().getPlugin(PostgreSQLConfigurationExtension.class).setTransactionalLock(false);
        this.flyway = config.load();
    }

    /** Applied and pending migrations, in order. */
    public List<PlannedMigration> plan() {
        try {
            List<PlannedMigration> out = new ArrayList<>();
            for (MigrationInfo info : flyway.info().all()) {
                if (info.getVersion() == null) {
                    continue;
                }
                MigrationScript script = info.getScript() == null ? null : byName.get(info.getScript());
                out.add(new PlannedMigration(info.getVersion().getVersion(), info.getDescription(),
                        script != null ? script.file().displayPath() : info.getScript(), state(info.getState()),
                        script != null ? script.mode() : null));
            }
            return out;
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    /** The version the database is at, or null for an empty one. */
    public String currentVersion() {
        try {
            MigrationInfo current = flyway.info().current();
            return current == null || current.getVersion() == null ? null : current.getVersion().getVersion();
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    /** Checks that applied migrations still match their files (checksum drift is exit 3, before anything runs). */
    public void validate() {
        try {
            var result = flyway.validateWithResult();
            if (!result.validationSuccessful) {
                String details = result.invalidMigrations.stream().map(m -> m.version + " (" + m.filepath + "): " + oneLine(m.errorDetails.errorMessage))
                        .collect(Collectors.joining("; "));
                throw new PgshiftException(ExitCode.CONFIG, "applied migrations no longer match the files: " + details
                        + ". Never edit an applied migration: add a new one.");
            }
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    /** Applies every pending migration; a failed transactional migration is rolled back whole. */
    public List<AppliedMigration> migrate() {
        try {
            MigrateResult result = flyway.migrate();
            List<AppliedMigration> applied = new ArrayList<>();
            for (MigrateOutput o : result.migrations) {
                MigrationScript script = byName.get(o.filepath) != null ? byName.get(o.filepath) : findByVersion(o.version);
                applied.add(new AppliedMigration(o.version, o.description, script != null ? script.file().displayPath() : o.filepath,
                        script != null ? script.mode() : "transaction", Duration.ofMillis(o.executionTime)));
            }
            return applied;
        } catch (FlywayException e) {
            throw translate(e);
        }
    }

    private MigrationScript findByVersion(String version) {
        return byName.values().stream().filter(s -> s.version().equals(version)).findFirst().orElse(null);
    }

    private PgshiftException translate(FlywayException e) {
        if (stop.stopped()) {
            return new PgshiftException(ExitCode.TEMPORARY, "stopped by " + stop.stoppedBy() + ": the running statement was cancelled", e);
        }
        if (e instanceof FlywayValidateException) {
            return new PgshiftException(ExitCode.CONFIG, oneLine(e.getMessage()) + " Never edit an applied migration: add a new one.", e);
        }
        SQLException sql = sqlCause(e);
        if (sql != null && sql.getSQLState() != null && sql.getSQLState().startsWith("08")) {
            return new PgshiftException(ExitCode.TEMPORARY, "lost the database connection: " + sql.getMessage(), e);
        }
        return new PgshiftException(ExitCode.MIGRATION, oneLine(e.getMessage()), e);
    }

    private static SQLException sqlCause(Throwable t) {
        for (; t != null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                return s;
            }
        }
        return null;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").replaceAll("-{5,}", "").trim();
    }

    private static String state(MigrationState s) {
        return switch (s) {
            case PENDING -> "pending";
            case SUCCESS -> "applied";
            case FAILED -> "failed";
            default -> s.name().toLowerCase(Locale.ROOT).replace('_', ' ');
        };
    }
}
