package dev.pgshift.source;

/**
 * What a statement does to an existing table, as the lint classifies it for the server's major.
 *
 * @param table   the table; null when the statement works on none the lint follows
 * @param lock    the strongest lock it takes on the table, held until its transaction ends
 * @param rewrite whether the table (and its indexes) are written anew
 * @param scan    whether every row is read (a validation, an index build, a rewrite)
 * @param waits   whether it waits for every transaction older than it (concurrent builds and detaches)
 */
public record Effect(QualifiedName table, Lock lock, boolean rewrite, boolean scan, boolean waits) {

    /** PostgreSQL's table lock modes, weakest first, with their names in pg_locks. */
    public enum Lock {
        ACCESS_SHARE("AccessShareLock"),
        ROW_SHARE("RowShareLock"),
        ROW_EXCLUSIVE("RowExclusiveLock"),
        SHARE_UPDATE_EXCLUSIVE("ShareUpdateExclusiveLock"),
        SHARE("ShareLock"),
        SHARE_ROW_EXCLUSIVE("ShareRowExclusiveLock"),
        EXCLUSIVE("ExclusiveLock"),
        ACCESS_EXCLUSIVE("AccessExclusiveLock");

        private final String pgName;

        Lock(String pgName) {
            this.pgName = pgName;
        }

        /** The mode as pg_locks names it. */
        public String pgName() {
            return pgName;
        }

        /** The modes this one conflicts with (PostgreSQL's table of conflicting lock modes), as pg_locks names them. */
        public java.util.List<String> conflicts() {
            java.util.List<String> out = new java.util.ArrayList<>();
            for (Lock other : values()) {
                if (conflictsWith(other)) {
                    out.add(other.pgName);
                }
            }
            return out;
        }

        boolean conflictsWith(Lock o) {
            int b = o.ordinal();
            return switch (this) {
                case ACCESS_SHARE -> o == ACCESS_EXCLUSIVE;
                case ROW_SHARE -> b >= EXCLUSIVE.ordinal();
                case ROW_EXCLUSIVE -> b >= SHARE.ordinal();
                case SHARE_UPDATE_EXCLUSIVE -> b >= SHARE_UPDATE_EXCLUSIVE.ordinal();
                case SHARE -> b == ROW_EXCLUSIVE.ordinal() || b == SHARE_UPDATE_EXCLUSIVE.ordinal() || b >= SHARE_ROW_EXCLUSIVE.ordinal();
                case SHARE_ROW_EXCLUSIVE -> b >= ROW_EXCLUSIVE.ordinal();
                case EXCLUSIVE -> b >= ROW_SHARE.ordinal();
                case ACCESS_EXCLUSIVE -> true;
            };
        }

        /** The mode pg_locks names {@code name}, or null. */
        public static Lock of(String name) {
            for (Lock l : values()) {
                if (l.pgName.equals(name)) {
                    return l;
                }
            }
            return null;
        }
    }

    /** The stronger of two effects on the same table: the stronger lock, and rewrite, scan and waits if either has them. */
    Effect and(Effect o) {
        if (o == null) {
            return this;
        }
        return new Effect(table, lock.compareTo(o.lock) >= 0 ? lock : o.lock, rewrite || o.rewrite, scan || o.scan || rewrite || o.rewrite,
                waits || o.waits);
    }
}
