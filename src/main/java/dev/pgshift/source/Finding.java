package dev.pgshift.source;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * What the lint found about one pending statement, with its evidence ("plan for downtime").
 *
 * @param rule      the rule's id ({@link LintRule#id()})
 * @param file      the migration file, as a user finds it
 * @param line      the statement's line in that file
 * @param statement the statement's first words
 * @param table     the existing table it is about, as PostgreSQL names it; null when none
 * @param lock      the strongest lock the statement takes on that table (e.g. AccessExclusiveLock); null when none
 * @param rewrite   whether PostgreSQL rewrites the table (and its indexes)
 * @param scan      whether it reads every row (a validation, an index build, a rewrite)
 * @param waits     whether it waits for every older transaction (concurrent builds)
 * @param rows      the table's rows as the lint weighed them (largest of the estimates, or a bounded count); null when not weighed
 * @param bytes     the table's size on disk with its indexes and TOAST; null when not weighed
 * @param threshold from where the rule counts, as set
 * @param decision  warn, refuse (--lint enforce), allowed (an allow directive on the statement) or under-threshold
 * @param reason    the allow directive's reason; null when not allowed
 * @param risk      what it does to the application while it runs
 * @param saferForm what to write instead, as SQL where there is one
 */
@RegisterForReflection
public record Finding(String rule, String version, String file, int line, String statement, String table, String lock, boolean rewrite,
        boolean scan, boolean waits, Long rows, Long bytes, String threshold, String decision, String reason, String risk, String saferForm) {

    public static final String WARN = "warn";
    public static final String REFUSE = "refuse";
    public static final String ALLOWED = "allowed";
    public static final String UNDER_THRESHOLD = "under-threshold";

    /** The evidence in words: rule, lock, rewrite or scan, size against the threshold. */
    public String evidence() {
        StringBuilder sb = new StringBuilder("rule ").append(rule);
        if (lock != null) {
            sb.append("; ").append(lock).append(" on ").append(table);
        }
        if (rewrite || scan) {
            sb.append(rewrite ? ", rewrites it" : ", reads every row");
        }
        if (rows != null) {
            sb.append(String.format(java.util.Locale.ROOT, "; about %,d rows, %s on disk", rows, dev.pgshift.Sizes.display(bytes == null ? 0 : bytes)));
        }
        if (threshold != null && !threshold.isEmpty()) {
            sb.append("; threshold ").append(threshold);
        }
        return sb.toString();
    }

    /** One line for logs and messages. */
    public String describe() {
        return file + ":" + line + ": " + statement + " — " + risk + " (" + evidence() + (reason != null ? "; allowed: " + reason : "")
                + "). Safer: " + saferForm;
    }
}
