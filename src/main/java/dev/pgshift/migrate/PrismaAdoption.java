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
 * Moving from {@code prisma migrate deploy}: the migrations Prisma already applied (table _prisma_migrations, looked
 * for in the history schema, then on the search_path) are recorded as applied without running them again, after
 * checking each file against the sha256 Prisma stored, compared as Prisma compares it (hex with or without zero padding,
 * as Prisma wrote it before mid-2021; the file with LF or CRLF line ends). A migration counts as applied when one of its
 * rows finished and was not rolled back (Prisma records a failed attempt before the successful one); rolled-back or
 * unfinished ones are reported, not adopted. The takeover happens once: only while pgshift's own history holds no
 * applied migration, so a folder pgshift later rolls back runs for real on the next run. Manual files that the team
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

    /**
     * @param takeover whether pgshift's history holds no applied migration yet: only then is _prisma_migrations read
     */
    public static Plan plan(Connection c, String schema, boolean takeover, List<MigrationScript> all, List<MigrationScript> pending,
            String adoptThrough, boolean ignoreChecksums) throws SQLException {
        String table = table(c, schema);
        Map<String, PrismaState> recorded = table == null ? Map.of() : read(c, table);
        List<String> unmatched = unmatched(recorded, all);
        Map<String, PrismaState> prisma = takeover ? recorded : Map.of();
        if (prisma.isEmpty() && adoptThrough == null) {
            return new Plan(List.of(), unmatched);
        }
        List<MigrationScript> adopt = new ArrayList<>();
        List<String> notes = new ArrayList<>(unmatched);
        List<String> mismatches = new ArrayList<>();
        boolean stopped = false;
        for (MigrationScript m : pending) {
            PrismaState p = m.scheme() == MigrationScript.Scheme.PRISMA ? prisma.get(m.prismaName()) : null;
            if (p != null && !p.applied() && p.note().equals("unfinished") && !(adoptThrough != null && compare(m.version(), adoptThrough) <= 0)) {
                // Prisma itself refuses to go on here (P3009): part of the folder may be applied.
                throw new PgshiftException(ExitCode.CONFIG, "Prisma's attempt at " + m.prismaName() + " failed and was never resolved, so part "
                        + "of it may be applied. Bring the database to where it was before the folder and mark the attempt rolled back "
                        + "with " + Repair.command("--rolled-back", m.version()) + " to have pgshift run it, or finish it by "
                        + "hand and pass --adopt-through " + m.version() + " to record it as applied.");
            }
            if (p != null && !p.applied()) {
                notes.add(m.prismaName() + ": " + p.note() + " in _prisma_migrations, not adopted: pgshift will run it");
            }
            boolean prismaApplied = p != null && p.applied();
            boolean manual = adoptThrough != null && compare(m.version(), adoptThrough) <= 0;
            if (stopped) {
                if (prismaApplied) {
                    throw new PgshiftException(ExitCode.CONFIG, "Prisma applied " + m.prismaName() + ", but an earlier pending migration ("
                            + pending.get(adopt.size()).file().displayPath() + ") was not applied by Prisma. If it was applied by hand, "
                            + "pass --adopt-through " + m.version() + "; otherwise the order cannot be kept" + (unmatched.isEmpty() ? "." : ". Also: "
                            + String.join("; ", unmatched)));
                }
                continue;
            }
            if (prismaApplied) {
                if (!checksumMatches(m.file().content(), p.checksum())) {
                    mismatches.add(m.file().displayPath() + " (folder " + m.prismaName() + "): the file's sha256 is " + sha256(m.file().content())
                            + ", Prisma recorded " + p.checksum());
                }
                adopt.add(m);
            } else if (manual) {
                adopt.add(m);
            } else {
                stopped = true;
            }
        }
        List<String> wouldRun = pending.stream().filter(m -> m.scheme() == MigrationScript.Scheme.PRISMA && !adopt.contains(m))
                .map(MigrationScript::prismaName).toList();
        if (!unmatched.isEmpty() && !prisma.isEmpty() && !wouldRun.isEmpty()) {
            // Adopting, a folder Prisma recorded is gone and folders Prisma never ran would run: one of them may be that
            // folder renamed, which would run a second time (its data doubled).
            throw new PgshiftException(ExitCode.CONFIG, String.join("; ", unmatched) + ". pgshift stops rather than run " + String.join(", ",
                    wouldRun) + ", which Prisma never recorded (one may be that folder, renamed). If a folder was removed on purpose, "
                    + "mark its row rolled back in _prisma_migrations (set rolled_back_at, as prisma migrate resolve --rolled-back does). "
                    + "Nothing was changed.");
        }
        if (!mismatches.isEmpty() && !ignoreChecksums) {
            throw new PgshiftException(ExitCode.CONFIG, "migration files changed after Prisma applied them: " + String.join("; ", mismatches)
                    + ". Restore the applied files, or pass --adopt-ignore-checksums if the change is known to be harmless.");
        }
        return new Plan(List.copyOf(adopt), List.copyOf(notes));
    }

    /**
     * Rows of _prisma_migrations that record a folder as applied which no folder of the migrations has: a renamed folder
     * (to pgshift, as to Prisma, a new migration, which would run again) or one removed on purpose.
     */
    private static List<String> unmatched(Map<String, PrismaState> recorded, List<MigrationScript> all) {
        java.util.Set<String> folders = new java.util.HashSet<>();
        all.forEach(m -> folders.add(m.prismaName()));
        List<String> out = new ArrayList<>();
        recorded.forEach((name, state) -> {
            if (state.applied() && !folders.contains(name)) {
                out.add("_prisma_migrations records " + dev.pgshift.Printable.escape(name) + " as applied, but no migration folder has that "
                        + "name: if the folder was renamed, give it its old name back (a renamed folder is a new migration to pgshift "
                        + "and to Prisma, and runs again); if it was removed on purpose, nothing needs doing");
            }
        });
        return out;
    }

    /** Prisma's table, quoted and schema-qualified: in the history schema, else on the search_path; null when there is none. */
    public static String table(Connection c, String schema) throws SQLException {
        try (java.sql.PreparedStatement ps = c.prepareStatement("select format('%I.%I', n.nspname, t.relname) from pg_class t "
                + "join pg_namespace n on n.oid = t.relnamespace "
                + "where t.oid = coalesce(to_regclass(format('%I._prisma_migrations', ?::text)), to_regclass('_prisma_migrations'))")) {
            ps.setString(1, schema);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /**
     * Keeps _prisma_migrations true while it exists: a row as Prisma writes it for a folder pgshift applied (in the
     * migration's own transaction where it has one), so {@code prisma migrate status} agrees with pgshift and the team
     * can go back to Prisma.
     */
    static void recordApplied(Connection c, String schema, MigrationScript m) throws SQLException {
        String table = m.scheme() == MigrationScript.Scheme.PRISMA ? table(c, schema) : null;
        if (table == null) {
            return;
        }
        try (java.sql.PreparedStatement ps = c.prepareStatement("insert into " + table + " (id, checksum, finished_at, migration_name, logs, "
                + "rolled_back_at, started_at, applied_steps_count) values (?, ?, clock_timestamp(), ?, null, null, now(), 1)")) {
            ps.setString(1, java.util.UUID.randomUUID().toString());
            ps.setString(2, sha256(m.file().content()));
            ps.setString(3, m.prismaName());
            ps.executeUpdate();
        }
    }

    /** A folder pgshift rolled back is marked rolled back in _prisma_migrations, as {@code prisma migrate resolve} would. */
    static void recordRolledBack(Connection c, String schema, MigrationScript m) throws SQLException {
        updateRow(c, schema, m, "rolled_back_at = clock_timestamp()", "finished_at is not null and rolled_back_at is null");
    }

    /** After pgshift repair accepted an edited folder, Prisma's row carries the file's checksum too. */
    static void recordChecksum(Connection c, String schema, MigrationScript m) throws SQLException {
        updateRow(c, schema, m, "checksum = '" + sha256(m.file().content()) + "'", "finished_at is not null and rolled_back_at is null");
    }

    /** Prisma's unfinished attempts at a folder marked rolled back, as {@code prisma migrate resolve --rolled-back}; how many. */
    static int resolveUnfinished(Connection c, String schema, MigrationScript m) throws SQLException {
        return updateRow(c, schema, m, "rolled_back_at = clock_timestamp()", "finished_at is null and rolled_back_at is null");
    }

    /** Updates a Prisma folder's rows in _prisma_migrations that match {@code where}; none where the table or the folder is not. */
    private static int updateRow(Connection c, String schema, MigrationScript m, String set, String where) throws SQLException {
        String table = m.scheme() == MigrationScript.Scheme.PRISMA ? table(c, schema) : null;
        if (table == null) {
            return 0;
        }
        try (java.sql.PreparedStatement ps = c.prepareStatement("update " + table + " set " + set + " where migration_name = ? and " + where)) {
            ps.setString(1, m.prismaName());
            return ps.executeUpdate();
        }
    }

    static Map<String, PrismaState> read(Connection c, String table) throws SQLException {
        Map<String, PrismaState> out = new LinkedHashMap<>();
        try (Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("select migration_name, checksum, finished_at is not null, rolled_back_at is not null "
                    + "from " + table + " order by started_at")) {
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


    /** The checksum Prisma records for a migration file: the sha256 of its bytes, in lower-case hex. */
    public static String sha256(String content) {
        return HexFormat.of().formatHex(digest(content));
    }

    /**
     * Whether Prisma would accept {@code recorded} for {@code content}: Prisma before mid-2021 wrote each byte of the
     * hash without zero padding, and a checkout may have turned the LF line ends Prisma hashed into CRLF (or back).
     */
    static boolean checksumMatches(String content, String recorded) {
        String lf = content.replace("\r\n", "\n");
        for (String variant : List.of(content, lf, lf.replace("\n", "\r\n"))) {
            byte[] hash = digest(variant);
            StringBuilder unpadded = new StringBuilder();
            for (byte b : hash) {
                unpadded.append(Integer.toHexString(b & 0xff));
            }
            if (HexFormat.of().formatHex(hash).equalsIgnoreCase(recorded) || unpadded.toString().equalsIgnoreCase(recorded)) {
                return true;
            }
        }
        return false;
    }

    private static byte[] digest(String content) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int compare(String a, String b) {
        return dev.pgshift.source.Versions.compare(a, b);
    }
}
