package dev.pgshift.source;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The lint's rules: what PostgreSQL does to an existing table that the application feels. A rule of kind SIZE is weighed
 * by the table's live rows and size on disk, AGE by how long the oldest transaction in the way has been open; ALWAYS
 * rules hold whatever the sizes.
 */
public enum LintRule {
    ADD_CHECK("add-check", Kind.SIZE, "ADD CHECK without NOT VALID: every row is checked under an ACCESS EXCLUSIVE lock"),
    ADD_FOREIGN_KEY("add-foreign-key", Kind.SIZE, "ADD FOREIGN KEY without NOT VALID: every row is checked while writes to both tables wait"),
    ADD_UNIQUE("add-unique", Kind.SIZE, "ADD PRIMARY KEY or UNIQUE without USING INDEX: the index is built under an ACCESS EXCLUSIVE lock"),
    SET_NOT_NULL("set-not-null", Kind.SIZE, "SET NOT NULL without a validated CHECK: every row is scanned under an ACCESS EXCLUSIVE lock"),
    CREATE_INDEX("create-index", Kind.SIZE, "CREATE INDEX without CONCURRENTLY: writes wait while the index builds"),
    REINDEX("reindex", Kind.SIZE, "REINDEX without CONCURRENTLY: writes wait while the index is rebuilt"),
    CHANGE_TYPE("change-type", Kind.SIZE, "ALTER COLUMN TYPE that rewrites the table and its indexes under an ACCESS EXCLUSIVE lock"),
    ADD_COLUMN_REWRITE("add-column-rewrite", Kind.SIZE, "ADD COLUMN with a volatile default (or serial, identity, GENERATED STORED): the table is rewritten"),
    BIG_WRITE("big-write", Kind.SIZE, "UPDATE or DELETE of a big table in one transaction"),
    REWRITE_TABLE("rewrite-table", Kind.SIZE, "VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED/TABLESPACE/ACCESS METHOD: the table written anew under an ACCESS EXCLUSIVE lock"),
    DETACH_PARTITION("detach-partition", Kind.SIZE, "DETACH PARTITION without CONCURRENTLY: an ACCESS EXCLUSIVE lock on the partitioned table"),
    LOCK_QUEUE("lock-queue", Kind.AGE, "a lock that a long-open transaction holds against: the statement, and everything queued behind it, waits"),
    ENUM_VALUE_IN_TRANSACTION("enum-value-in-transaction", Kind.ALWAYS, "a value added by ALTER TYPE ... ADD VALUE used in the same transaction"),
    NAME_TRUNCATED("name-truncated", Kind.ALWAYS, "a name longer than 63 bytes, which PostgreSQL cuts"),
    UNCHECKED_DO_BLOCK("unchecked-do-block", Kind.ALWAYS, "a DO block, whose statements the lint cannot see");

    /** How a rule is weighed. */
    public enum Kind {
        SIZE, AGE, ALWAYS
    }

    private final String id;
    private final Kind kind;
    private final String summary;

    LintRule(String id, Kind kind, String summary) {
        this.id = id;
        this.kind = kind;
        this.summary = summary;
    }

    public String id() {
        return id;
    }

    public Kind kind() {
        return kind;
    }

    public String summary() {
        return summary;
    }

    /** The rule with this id (as written in a setting or an allow directive, any case), or null. */
    public static LintRule byId(String id) {
        String t = id.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(r -> r.id.equals(t)).findFirst().orElse(null);
    }

    /** Every rule's id, for messages that list what may be written. */
    public static String ids() {
        return Arrays.stream(values()).map(LintRule::id).collect(Collectors.joining(", "));
    }
}
