package dev.pgshift.migrate;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.source.MigrationScript;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moving from {@code prisma migrate deploy}: the migrations Prisma already applied (table _prisma_migrations) are
 * recorded as applied without running them again, after checking each file against the sha256 Prisma stored. A
 * migration counts as applied when one of its rows finished and was not rolled back (Prisma records a failed attempt
 * before the successful one); rolled-back or unfinished ones are reported, not adopted. Manual files that the team
 * applied by hand are adopted only up to an explicit --adopt-through version.
 */
public final class PrismaAdoption {

    /** What Prisma says of one migration folder. */
    record PrismaState(String checksum, boolean applied, String note) {
    }

    /**
     * @param adopt    pending migrations to record as applied without running them, in order
     * @param notes    what was found but not adopted (rolled back, unfinished)
     */
    public record Plan(List<MigrationScript> adopt, List<String> notes) {
        public String target() {
            return adopt.isEmpty() ? null : adopt.get(adopt.size() - 1).version();
        }

        public static Plan none() {
            return new Plan(List.of(), List.of());
        }
    }

    private PrismaAdoption() {
    }

    public static Plan plan(Connection c, List<MigrationScript> pending, String adoptThrough, boolean ignoreChecksums) throws SQLException {
        Map<String, PrismaState> prisma = read(c);
        if (prisma.isEmpty() && adoptThrough == null) {
            return Plan.none();
        }
        List<MigrationScript> adopt = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<String> mismatches = new ArrayList<>();
        boolean stopped = false;
        for (MigrationScript m : pending) {
            PrismaState p = m.scheme() == MigrationScript.Scheme.PRISMA ? prisma.get(folder(m)) : null;
            if (p != null && !p.applied()) {
                notes.add(folder(m) + ": " + p.note() + " in _prisma_migrations, not adopted: pgshift will run it");
            }
            boolean prismaApplied = p != null && p.applied();
            boolean manual = adoptThrough != null && compare(m.version(), adoptThrough) <= 0;
            if (stopped) {
                if (prismaApplied) {
                    throw new PgshiftException(ExitCode.CONFIG, "Prisma applied " + folder(m) + ", but an earlier pending migration ("
                            + pending.get(adopt.size()).file().displayPath() + ") was not applied by Prisma. If it was applied by hand, "
                            + "pass --adopt-through " + m.version() + "; otherwise the order cannot be kept.");
                }
                continue;
            }
            if (prismaApplied) {
                String actual = sha256(m.file().content());
                if (!actual.equalsIgnoreCase(p.checksum())) {
                    mismatches.add(folder(m) + " (file " + actual + ", Prisma recorded " + p.checksum() + ")");
                }
                adopt.add(m);
            } else if (manual) {
                adopt.add(m);
            } else {
                stopped = true;
            }
        }
        if (!mismatches.isEmpty() && !ignoreChecksums) {
            throw new PgshiftException(ExitCode.CONFIG, "migration files changed after Prisma applied them: " + String.join("; ", mismatches)
                    + ". Restore the applied files, or pass --adopt-ignore-checksums if the change is known to be harmless.");
        }
        return new Plan(List.copyOf(adopt), List.copyOf(notes));
    }

    static Map<String, PrismaState> read(Connection c) throws SQLException {
        Map<String, PrismaState> out = new LinkedHashMap<>();
        try (Statement st = c.createStatement()) {
            try (ResultSet exists = st.executeQuery("select to_regclass('_prisma_migrations') is not null")) {
                exists.next();
                if (!exists.getBoolean(1)) {
                    return out;
                }
            }
            try (ResultSet rs = st.executeQuery("select migration_name, checksum, finished_at is not null, rolled_back_at is not null "
                    + "from _prisma_migrations order by started_at")) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    boolean applied = rs.getBoolean(3) && !rs.getBoolean(4);
                    PrismaState before = out.get(name);
                    if (before != null && before.applied()) {
                        continue;
                    }
                    out.put(name, new PrismaState(rs.getString(2), applied, rs.getBoolean(4) ? "rolled back" : applied ? "applied" : "unfinished"));
                }
            }
        }
        return out;
    }

    private static String folder(MigrationScript m) {
        String[] parts = m.file().relativePath().split("/");
        return parts[parts.length - 2];
    }

    static String sha256(String content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int compare(String a, String b) {
        return org.flywaydb.core.api.MigrationVersion.fromVersion(a).compareTo(org.flywaydb.core.api.MigrationVersion.fromVersion(b));
    }
}
