package dev.pgshift.source;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns the files of all locations into one ordered stream of migrations: Flyway V-files, the platform's timestamp
 * files and Prisma folders. Stops with exit 3 naming the files when a name fits no scheme, when two files claim one
 * version, or when a manual file and a Prisma folder claim the same instant.
 */
public final class MigrationCatalog {

    static final Pattern FLYWAY = Pattern.compile("V(\\d+(?:[._]\\d+)*)__(.*)\\.sql");
    private static final Pattern FLYWAY_REPEATABLE = Pattern.compile("R__.*\\.sql");
    /** Flyway's placeholder syntax, ${name}: its default prefix and suffix. */
    private static final Pattern FLYWAY_PLACEHOLDER = Pattern.compile("\\$\\{[^}\\s]+}");
    static final Pattern TIMESTAMP = Pattern.compile("(\\d{4})-(\\d{2})-(\\d{2})_(\\d{6})_(.*)\\.sql");
    /** A Prisma folder's number: its leading digits, before "_" or the end of the name ({@code 20240110120000_init}, {@code 0_init}). */
    static final Pattern PRISMA_NUMBER = Pattern.compile("(\\d+)(?:_(.*))?");
    /** Prisma's file in each of its migration folders. */
    public static final String PRISMA_MIGRATION = "migration.sql";
    /** Beside a file migration {@code X.sql}: {@code X.rollback.sql}. */
    public static final String ROLLBACK_SUFFIX = ".rollback.sql";
    /** In a Prisma folder, beside migration.sql. */
    public static final String PRISMA_DOWN = "down.sql";

    private MigrationCatalog() {
    }

    public static List<MigrationScript> order(List<MigrationFile> files) {
        Set<String> prismaFolders = prismaFolders(files);
        Map<String, MigrationFile> rollbacks = new LinkedHashMap<>();
        for (MigrationFile f : files) {
            String path = f.relativePath();
            if (path.endsWith(ROLLBACK_SUFFIX)) {
                rollbacks.put(f.location() + "/" + path.substring(0, path.length() - ROLLBACK_SUFFIX.length()) + ".sql", f);
            } else if (path.endsWith("/" + PRISMA_DOWN)
                    && prismaFolders.contains(f.location() + "/" + path.substring(0, path.length() - PRISMA_DOWN.length()))) {
                rollbacks.put(f.location() + "/" + path.substring(0, path.length() - PRISMA_DOWN.length()) + "migration.sql", f);
            }
        }
        List<String> unparseable = new ArrayList<>();
        List<Named> named = new ArrayList<>();
        List<MigrationFile> prisma = new ArrayList<>();
        for (MigrationFile f : files) {
            String path = f.relativePath();
            String[] parts = path.split("/");
            String name = parts[parts.length - 1];
            if (!name.endsWith(".sql") || rollbacks.containsValue(f)) {
                continue; // migration_lock.toml, README.md, rollback scripts and the like are not migrations
            }
            if (parts.length >= 2 && name.equals(PRISMA_MIGRATION)) {
                prisma.add(f);
                continue;
            }
            Matcher fw = FLYWAY.matcher(name);
            if (fw.matches()) {
                named.add(new Named(normalizeVersion(fw.group(1)), fw.group(2), MigrationScript.Scheme.FLYWAY, f));
                continue;
            }
            Matcher ts = TIMESTAMP.matcher(name);
            if (ts.matches() && validTimestamp(ts)) {
                String instant = ts.group(1) + ts.group(2) + ts.group(3) + ts.group(4);
                named.add(new Named(instant, ts.group(5), MigrationScript.Scheme.TIMESTAMP, f));
                continue;
            }
            unparseable.add(f.displayPath());
        }
        if (!unparseable.isEmpty()) {
            String repeatable = unparseable.stream().filter(p -> FLYWAY_REPEATABLE.matcher(p.substring(p.lastIndexOf('/') + 1)).matches())
                    .findFirst().map(p -> ". " + p + " is a Flyway repeatable migration (R__): pgshift runs versioned migrations only; "
                            + "put its statements (CREATE OR REPLACE ...) in a new V<version>__ file each time they change")
                    .orElse("");
            throw new PgshiftException(ExitCode.CONFIG, "migration file names fit no known pattern: " + String.join(", ", unparseable)
                    + ". Expected V<version>__<description>.sql, YYYY-MM-DD_HHMMSS_description.sql, or a Prisma folder "
                    + "<name>/migration.sql (any folder holding a migration.sql)" + repeatable);
        }
        named.addAll(prismaVersions(prisma));
        checkAmbiguity(named);
        List<MigrationScript> out = new ArrayList<>();
        named.sort((a, b) -> Versions.compare(a.version, b.version));
        for (Named n : named) {
            Statements statements = Statements.of(n.file.content());
            MigrationFile down = rollbacks.remove(n.file.location() + "/" + n.file.relativePath());
            Rollback rollback = null;
            if (down != null) {
                Statements downStatements = Statements.of(down.content());
                Backfill downBackfill = Backfill.of(down, downStatements);
                rollback = new Rollback(down, downStatements, mode(down, downStatements, downBackfill), downBackfill);
            }
            Backfill backfill = Backfill.of(n.file, statements);
            out.add(new MigrationScript(n.version, n.description, n.scheme, n.file, statements, mode(n.file, statements, backfill),
                    rollback, backfill));
        }
        if (!rollbacks.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "rollback scripts without a migration: "
                    + rollbacks.values().stream().map(MigrationFile::displayPath).collect(Collectors.joining(", ")));
        }
        return List.copyOf(out);
    }

    private static ExecutionMode mode(MigrationFile file, Statements statements, Backfill backfill) {
        return backfill != null ? ExecutionMode.BACKFILL : ExecutionMode.of(file.displayPath(), statements);
    }

    /**
     * Flyway replaces {@code ${name}} in its files (its own {@code ${flyway:user}}, {@code ${flyway:defaultSchema}}, ... and
     * configured ones) before running them; pgshift runs every file as it is. A pending Flyway file holding one would
     * run differently under pgshift (the text "${flyway:user}" inserted instead of the role): exit 3 naming each. Files
     * already applied are never run again, so theirs stand.
     */
    public static void refusePlaceholders(List<MigrationScript> pending) {
        List<String> found = new ArrayList<>();
        for (MigrationScript m : pending) {
            if (m.scheme() != MigrationScript.Scheme.FLYWAY) {
                continue;
            }
            Matcher p = FLYWAY_PLACEHOLDER.matcher(m.file().content());
            while (p.find()) {
                int line = 1 + (int) m.file().content().substring(0, p.start()).chars().filter(c -> c == '\n').count();
                found.add(m.file().displayPath() + ":" + line + ": " + p.group());
            }
        }
        if (!found.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "Flyway placeholders, which Flyway replaces before running a file and pgshift "
                    + "does not (it runs each file as it is): " + String.join(", ", found) + ". Write the values into these files (they "
                    + "are not applied yet); a \"${\" that is no placeholder can be written as '$' || '{...}'");
        }
    }

    /**
     * Prisma applies its folders in folder-name order, whatever the names, and so does pgshift. Each gets the version
     * {@code <number>.<n>}: the number is the folder name's leading digits ({@code 20240110120000_init} → 20240110120000,
     * {@code 0_init} → 0, {@code 01_init} → 1), and n counts the folders of that number in name order (several folders
     * of one timestamp are common). A folder whose name starts with no number, or with a number smaller than the one
     * before it in name order (mixed prefix lengths: {@code 20230912150657_a}, then {@code 202310122339_b}, then
     * {@code 20241231_c}; or {@code 10_b} before {@code 9_a}), follows the folder before it: that folder's number, the
     * next n. A folder's version depends only on the folders before it in name order, so the folders added after it
     * (later names) never change it.
     */
    private static List<Named> prismaVersions(List<MigrationFile> prisma) {
        List<MigrationFile> sorted = prisma.stream().sorted(Comparator.comparing(MigrationCatalog::prismaFolder)).toList();
        List<Named> out = new ArrayList<>();
        BigInteger number = BigInteger.ZERO;
        boolean numbered = false;
        int n = 0;
        for (MigrationFile f : sorted) {
            String folder = prismaFolder(f);
            Matcher m = PRISMA_NUMBER.matcher(folder);
            String description = folder;
            if (m.matches()) {
                BigInteger mine = new BigInteger(m.group(1));
                description = m.group(2) == null ? "" : m.group(2);
                if (!numbered || mine.compareTo(number) > 0) {
                    n = 1;
                    number = mine;
                    numbered = true;
                } else {
                    n++; // the same number, or a smaller one that name order puts later: it follows
                }
            } else {
                n++;
            }
            out.add(new Named(number + "." + n, description, MigrationScript.Scheme.PRISMA, f));
        }
        return out;
    }

    /**
     * What the migrations are, as one SHA-256: each one's version, file and content (line endings as \n) in order. Two
     * processes with the same digest run the same SQL; the same last version alone does not say so.
     */
    public static String digest(List<MigrationScript> scripts) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            for (MigrationScript s : scripts) {
                String part = s.version() + "\0" + s.file().relativePath() + "\0" + s.file().content().replace("\r\n", "\n") + "\0";
                md.update(part.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The files of the locations that are neither migrations nor rollback scripts, each with why it is skipped: plan
     * lists them, so nothing is left out silently (Prisma's migration_lock.toml is expected and not listed).
     */
    public static List<String> skipped(List<MigrationFile> files) {
        Set<String> prismaFolders = prismaFolders(files);
        List<String> out = new ArrayList<>();
        for (MigrationFile f : files) {
            String path = f.relativePath();
            String name = path.substring(path.lastIndexOf('/') + 1);
            String folder = f.location() + "/" + path.substring(0, path.length() - name.length());
            if (name.endsWith(".sql") || name.equals("migration_lock.toml")) {
                continue;
            }
            if (name.toLowerCase(java.util.Locale.ROOT).endsWith(".sql")) {
                out.add(f.displayPath() + ": its extension is not .sql in lower case; rename it to have it run");
            } else if (name.startsWith("migration.") && path.contains("/") && !prismaFolders.contains(folder)) {
                out.add(f.displayPath() + ": a migration folder without a migration.sql; pgshift runs SQL migrations only");
            } else {
                out.add(f.displayPath() + ": not a .sql file");
            }
        }
        return out;
    }

    /** The folders (location/path/) that hold a migration.sql: Prisma's migration folders. */
    private static Set<String> prismaFolders(List<MigrationFile> files) {
        Set<String> out = new HashSet<>();
        for (MigrationFile f : files) {
            if (f.relativePath().endsWith("/" + PRISMA_MIGRATION)) {
                out.add(f.location() + "/" + f.relativePath().substring(0, f.relativePath().length() - PRISMA_MIGRATION.length()));
            }
        }
        return out;
    }

    private static void checkAmbiguity(List<Named> named) {
        Map<String, List<Named>> byVersion = new LinkedHashMap<>();
        for (Named n : named) {
            byVersion.computeIfAbsent(Versions.canonical(n.version),
                    k -> new ArrayList<>()).add(n);
        }
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, List<Named>> e : byVersion.entrySet()) {
            if (e.getValue().size() > 1) {
                problems.add("version " + e.getKey() + " is claimed by " + files(e.getValue()));
            }
        }
        Map<String, List<Named>> byInstant = new LinkedHashMap<>();
        for (Named n : named) {
            String number = n.version.split("\\.")[0];
            if (number.length() == 14 && (n.scheme == MigrationScript.Scheme.TIMESTAMP || n.scheme == MigrationScript.Scheme.PRISMA)) {
                byInstant.computeIfAbsent(number, k -> new ArrayList<>()).add(n);
            }
        }
        for (Map.Entry<String, List<Named>> e : byInstant.entrySet()) {
            boolean manual = e.getValue().stream().anyMatch(n -> n.scheme == MigrationScript.Scheme.TIMESTAMP);
            boolean prisma = e.getValue().stream().anyMatch(n -> n.scheme == MigrationScript.Scheme.PRISMA);
            if (manual && prisma) {
                problems.add("a manual file and a Prisma folder claim the same instant " + e.getKey() + ", so their order is ambiguous: "
                        + files(e.getValue()));
            }
        }
        if (!problems.isEmpty()) {
            throw new PgshiftException(ExitCode.CONFIG, "ambiguous migration order: " + String.join("; ", problems)
                    + ". Rename the one no database has applied yet (renaming an applied migration makes it a new one, run again) so "
                    + "that each migration has its own version.");
        }
    }

    private static String files(List<Named> list) {
        return list.stream().map(n -> n.file.displayPath()).collect(Collectors.joining(" and "));
    }

    private static String prismaFolder(MigrationFile f) {
        String[] parts = f.relativePath().split("/");
        return parts[parts.length - 2];
    }

    private static boolean validTimestamp(Matcher m) {
        int month = Integer.parseInt(m.group(2));
        int day = Integer.parseInt(m.group(3));
        int hh = Integer.parseInt(m.group(4).substring(0, 2));
        int mm = Integer.parseInt(m.group(4).substring(2, 4));
        int ss = Integer.parseInt(m.group(4).substring(4, 6));
        return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hh < 24 && mm < 60 && ss < 60;
    }

    private static String normalizeVersion(String v) {
        return v.replace('_', '.');
    }

    private record Named(String version, String description, MigrationScript.Scheme scheme, MigrationFile file) {
    }
}
