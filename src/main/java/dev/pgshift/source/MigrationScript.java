package dev.pgshift.source;

/**
 * One migration in pgshift's ordered stream, whatever naming scheme it came from.
 *
 * @param version     the Flyway version it is recorded under (the timestamp for the seed's files; timestamp.n for
 *                    the n-th Prisma folder of that timestamp)
 * @param description the description part of its name
 * @param scheme      the naming scheme that matched
 * @param file        the file it came from
 * @param statements  its statements, as pgshift's tokenizer reads them
 * @param mode        how it runs: in one transaction, statement by statement outside one, or under its own BEGIN/COMMIT
 * @param rollback    its rollback script, or null when none is kept
 * @param backfill    for a backfill file ({@link ExecutionMode#BACKFILL}), its directive and statement; else null
 */
public record MigrationScript(
        String version,
        String description,
        Scheme scheme,
        MigrationFile file,
        Statements statements,
        ExecutionMode mode,
        Rollback rollback,
        Backfill backfill) {

    /** The naming schemes pgshift reads. */
    public enum Scheme {
        /** {@code V<version>__<description>.sql} */
        FLYWAY,
        /** The platform's manual files, {@code YYYY-MM-DD_HHMMSS_description.sql} */
        TIMESTAMP,
        /** Prisma's {@code <name>/migration.sql}: any folder holding a migration.sql */
        PRISMA
    }

    /** The name Flyway sees: it parses version and description from it and records it as the script. */
    public String flywayName() {
        String desc = description.isEmpty() ? "migration" : description.replaceAll("[^A-Za-z0-9_]", "_");
        return "V" + version + "__" + desc + ".sql";
    }

    /** The Prisma folder's name, as _prisma_migrations.migration_name records it; null for other schemes. */
    public String prismaName() {
        if (scheme != Scheme.PRISMA) {
            return null;
        }
        String[] parts = file.relativePath().split("/");
        return parts[parts.length - 2];
    }

    /** Runs statement by statement outside a transaction (a concurrent build and the like). */
    public boolean outside() {
        return mode == ExecutionMode.OUTSIDE;
    }

    /** May run after the release ({@code --phase post}): a concurrent build, a backfill. */
    public boolean deferrable() {
        return mode == ExecutionMode.OUTSIDE || mode == ExecutionMode.BACKFILL;
    }
}
