package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.source.MigrationScript;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * pgshift repair's changes to the migration history, for the day after a failure: accept an applied file's new checksum
 * after a deliberate edit, or resolve a failed record as rolled back (removed: the file runs again) or as applied (marked
 * done). Never runs a migration's SQL; keeps _prisma_migrations true where it exists, as {@code prisma migrate resolve}
 * would. All requested actions change the history in one transaction: all or nothing.
 */
public final class Repair {
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(Repair.class);

    /** One thing repair can do to one version. */
    public enum Action {
        ACCEPT_CHECKSUM("--accept-checksum", "checksum accepted"),
        ROLLED_BACK("--rolled-back", "resolved as rolled back"),
        APPLIED("--applied", "resolved as applied");

        private final String flag;
        private final String done;

        Action(String flag, String done) {
            this.flag = flag;
            this.done = done;
        }

        public String flag() {
            return flag;
        }
    }

    /** An action on a version, as repair's flags name them. */
    public record Request(Action action, String version) {
    }

    private final Map<String, MigrationScript> byVersion;
    private final String schema;
    private final String table;

    /** The placeholder for the reason in the repair commands pgshift prints; repair refuses it as a reason. */
    public static final String REASON_PLACEHOLDER = "<why>";

    /**
     * The repair command for {@code action} on {@code version}, as a message prints it: with the migration settings of the
     * run that printed it, which repair needs to read the same files.
     */
    static String command(String action, String version) {
        return "pgshift repair " + action + " " + version + " --reason '" + REASON_PLACEHOLDER + "' (with this run's --migrations and "
                + "--bundled settings, so that repair reads the same files)";
    }

    public Repair(List<MigrationScript> scripts, String schema) {
        this.byVersion = scripts.stream().collect(Collectors.toMap(MigrationScript::version, Function.identity()));
        this.schema = schema;
        this.table = HistoryRows.table(schema);
    }

    /** Applies every request in one transaction on {@code c}; returns what changed, one entry per request, in order. */
    public List<AppliedMigration> apply(Connection c, List<Request> requests) throws SQLException {
        boolean history = HistoryRows.exists(c, schema);
        c.setAutoCommit(false);
        try {
            List<AppliedMigration> done = new ArrayList<>();
            for (Request r : requests) {
                String detail = switch (r.action()) {
                    case ACCEPT_CHECKSUM -> acceptChecksum(c, requireHistory(history, r));
                    case ROLLED_BACK -> rolledBack(c, history, r.version());
                    case APPLIED -> applied(c, requireHistory(history, r));
                };
                MigrationScript s = byVersion.get(r.version());
                LOG.infof("repair: %s %s%s", r.version(), r.action().done, detail);
                done.add(new AppliedMigration(r.version(), s == null ? "" : FlywayBridge.description(s),
                        s == null ? "(no file)" : s.file().displayPath(), r.action().done, Duration.ZERO));
            }
            c.commit();
            return done;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        }
    }

    /** Accepting a checksum and resolving as applied need pgshift's history; resolving Prisma's attempt does not. */
    private String requireHistory(boolean exists, Request r) {
        if (!exists) {
            throw refused(r.action(), r.version(), "schema " + schema + " has no pgshift migration history (" + table + ")");
        }
        return r.version();
    }

    private String acceptChecksum(Connection c, String version) throws SQLException {
        MigrationScript script = script(version, Action.ACCEPT_CHECKSUM);
        HistoryRows.Applied row = HistoryRows.applied(c, schema, version);
        if (row == null) {
            throw refused(Action.ACCEPT_CHECKSUM, version, "version " + version + " is not recorded as applied; only an applied file's "
                    + "checksum can be accepted");
        }
        int now = FlywayBridge.checksum(script.file().content());
        Integer recorded = row.checksum();
        if (recorded != null && recorded == now) {
            throw refused(Action.ACCEPT_CHECKSUM, version, script.file().displayPath() + " matches the checksum recorded for it: nothing to accept");
        }
        HistoryRows.acceptChecksum(c, schema, version, now);
        PrismaAdoption.recordChecksum(c, schema, script);
        return " (recorded " + recorded + ", the file's " + now + ")";
    }

    private String rolledBack(Connection c, boolean history, String version) throws SQLException {
        int removed = 0;
        if (history) {
            removed = HistoryRows.deleteFailed(c, schema, version);
        }
        int backfill = BackfillProgress.forget(c, schema, version, true);
        MigrationScript script = byVersion.get(version);
        int prisma = script == null ? 0 : PrismaAdoption.resolveUnfinished(c, schema, script);
        if (removed + prisma + backfill == 0) {
            throw refused(Action.ROLLED_BACK, version, "no failed attempt is recorded for version " + version);
        }
        return prisma > 0 ? " (Prisma's unfinished attempt marked rolled back; it runs on the next run)"
                : backfill > 0 ? " (the progress of its backfill forgotten: it runs over the whole table on the next run)" : " (it runs again on the next run)";
    }

    private String applied(Connection c, String version) throws SQLException {
        MigrationScript script = script(version, Action.APPLIED);
        if (HistoryRows.markApplied(c, schema, version, FlywayBridge.checksum(script.file().content())) == 0) {
            throw refused(Action.APPLIED, version, "no failed attempt is recorded for version " + version + " in pgshift's history");
        }
        PrismaAdoption.recordApplied(c, schema, script);
        return " (recorded as applied without running it)";
    }

    private MigrationScript script(String version, Action action) {
        MigrationScript script = byVersion.get(version);
        if (script == null) {
            throw refused(action, version, "no migration file has version " + version + " in the migrations these settings name: "
                    + "give repair the --migrations (and --bundled) of the run that reported the problem (pgshift plan with the same "
                    + "settings lists the versions)");
        }
        return script;
    }

    private static PgshiftException refused(Action action, String version, String why) {
        return new PgshiftException(ExitCode.CONFIG, "repair " + action.flag() + " " + version + ": " + why + ". Nothing was changed.");
    }
}
