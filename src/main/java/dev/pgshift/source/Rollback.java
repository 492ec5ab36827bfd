package dev.pgshift.source;

/**
 * The rollback script kept beside a migration: {@code <name>.rollback.sql} beside a file migration, {@code down.sql}
 * in a Prisma folder. Classified by the same tokenizer, so a DROP INDEX CONCURRENTLY runs outside a transaction, and a
 * rollback script may be a backfill ({@code backfill} non-null) itself.
 */
public record Rollback(MigrationFile file, Statements statements, ExecutionMode mode, Backfill backfill) {
}
