package dev.pgshift.source;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds pending statements that lock an existing table for their whole duration and names the safer form, the way the
 * platform's "plan for downtime" practice asks a reviewer to. A table created by an earlier pending migration is new
 * and empty, so statements on it are not flagged.
 */
public final class DowntimeRules {
    private static final Set<String> VOLATILE_DEFAULTS = Set.of("RANDOM", "GEN_RANDOM_UUID", "UUID_GENERATE_V4", "UUID_GENERATE_V1",
            "CLOCK_TIMESTAMP", "TIMEOFDAY", "NEXTVAL", "STATEMENT_TIMESTAMP");

    private DowntimeRules() {
    }

    /**
     * @param pending        pending migrations, in order
     * @param existingTables names (lower case unless quoted) of the tables in the database now
     */
    public static List<PlanWarning> check(List<MigrationScript> pending, Set<String> existingTables) {
        Set<String> created = new HashSet<>();
        List<PlanWarning> out = new ArrayList<>();
        for (MigrationScript m : pending) {
            int meaningful = (int) m.statements().stream().filter(s -> s.kind() != SqlStatement.Kind.NEUTRAL).count();
            for (SqlStatement s : m.statements()) {
                List<String> w = s.words();
                if (s.startsWith("CREATE", "TABLE") || s.startsWith("CREATE", "UNLOGGED", "TABLE")) {
                    int at = w.indexOf("TABLE") + 1;
                    String name = s.nameAt(s.containsSequence("TABLE", "IF", "NOT", "EXISTS") ? at + 3 : at);
                    if (name != null) {
                        created.add(name);
                    }
                    continue;
                }
                if (s.startsWith("ALTER", "TYPE") && s.containsSequence("ADD", "VALUE") && m.transactional() && meaningful > 1) {
                    out.add(warn(m, s, "a value added by ALTER TYPE ... ADD VALUE cannot be used until its transaction commits",
                            "put ALTER TYPE ... ADD VALUE in a migration of its own, before the migrations that use the value"));
                    continue;
                }
                String table = tableOf(s);
                if (table == null || created.contains(table) || !existingTables.contains(table)) {
                    continue;
                }
                if (s.startsWith("CREATE", "INDEX") || s.startsWith("CREATE", "UNIQUE", "INDEX")) {
                    if (!w.contains("CONCURRENTLY")) {
                        out.add(warn(m, s, "blocks every write to " + table + " while the index builds",
                                "CREATE INDEX CONCURRENTLY, named, in a migration of its own (pgshift runs it outside a transaction)"));
                    }
                    continue;
                }
                if (!s.startsWith("ALTER", "TABLE")) {
                    continue;
                }
                boolean notValid = s.containsSequence("NOT", "VALID");
                if (w.contains("CHECK") && w.contains("ADD") && !notValid) {
                    out.add(warn(m, s, "holds an ACCESS EXCLUSIVE lock on " + table + " while every row is checked",
                            "ADD CONSTRAINT ... CHECK (...) NOT VALID, then ALTER TABLE " + table
                                    + " VALIDATE CONSTRAINT ... in a later migration"));
                }
                if ((s.containsSequence("FOREIGN", "KEY") || w.contains("REFERENCES")) && w.contains("ADD") && !notValid) {
                    out.add(warn(m, s, "locks " + table + " and the referenced table against writes while every row is checked",
                            "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a later migration"));
                }
                if (s.containsSequence("SET", "NOT", "NULL")) {
                    out.add(warn(m, s, "holds an ACCESS EXCLUSIVE lock on " + table + " while every row is scanned",
                            "ADD CONSTRAINT ... CHECK (column IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL "
                                    + "(PostgreSQL 12+ then skips the scan) and drop the CHECK"));
                }
                if (alterColumnType(w)) {
                    out.add(warn(m, s, "may rewrite " + table + " and its indexes under an ACCESS EXCLUSIVE lock",
                            "add a new column, backfill it in batches, switch the application, then drop the old column"));
                }
                if (w.contains("ADD") && volatileDefault(w)) {
                    out.add(warn(m, s, "rewrites " + table + " under an ACCESS EXCLUSIVE lock (a volatile default is computed per row)",
                            "ADD COLUMN without the default (or with a constant one), then backfill in batches and SET DEFAULT"));
                }
            }
        }
        return out;
    }

    private static PlanWarning warn(MigrationScript m, SqlStatement s, String risk, String safer) {
        return new PlanWarning(m.version(), m.file().displayPath(), s.line(), s.head(8).replace(" ( ", "(").replace(" )", ")"), risk, safer);
    }

    private static boolean alterColumnType(List<String> w) {
        for (int i = 0; i + 2 < w.size(); i++) {
            if (w.get(i).equals("ALTER") && i > 0 && !w.get(i - 1).equals("ALTER")) {
                int j = w.get(i + 1).equals("COLUMN") ? i + 2 : i + 1;
                if (j + 1 < w.size() && (w.get(j + 1).equals("TYPE") || (w.get(j + 1).equals("SET") && j + 3 < w.size()
                        && w.get(j + 2).equals("DATA") && w.get(j + 3).equals("TYPE")))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean volatileDefault(List<String> w) {
        for (int i = 0; i < w.size(); i++) {
            String x = w.get(i);
            if (x.equals("SERIAL") || x.equals("BIGSERIAL") || x.equals("SMALLSERIAL")) {
                return true;
            }
            if (x.equals("STORED") && w.contains("GENERATED")) {
                return true;
            }
            if (x.equals("DEFAULT")) {
                for (int j = i + 1; j < Math.min(w.size(), i + 6); j++) {
                    if (VOLATILE_DEFAULTS.contains(w.get(j))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** The table an ALTER TABLE or CREATE INDEX statement works on, or null. */
    static String tableOf(SqlStatement s) {
        if (s.startsWith("ALTER", "TABLE")) {
            return s.alteredTable();
        }
        if (s.startsWith("CREATE", "INDEX") || s.startsWith("CREATE", "UNIQUE", "INDEX")) {
            List<String> w = s.words();
            int on = w.indexOf("ON");
            if (on < 0) {
                return null;
            }
            return s.nameAt(on + 1 < w.size() && w.get(on + 1).equals("ONLY") ? on + 2 : on + 1);
        }
        return null;
    }
}
