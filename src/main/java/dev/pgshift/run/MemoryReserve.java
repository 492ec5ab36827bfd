package dev.pgshift.run;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;

/**
 * Memory set aside when a run starts and given back when the heap runs out, so that a run that ran out of memory can
 * still record the failure, print its summary and write its report, termination message and history row (each needs a
 * little heap) instead of dying with a stack trace and nothing for Kubernetes or the operator to read.
 */
final class MemoryReserve {
    private static final int SIZE = 4 << 20;
    private static volatile byte[] reserve = new byte[SIZE];

    private MemoryReserve() {
    }

    /** Makes sure the reserve is held (a run after one that used it takes it again). */
    static void hold() {
        if (reserve == null) {
            try {
                reserve = new byte[SIZE];
            } catch (OutOfMemoryError e) {
                // not now: the run goes on without one
            }
        }
    }

    /** Gives the reserve back and returns the failure the run reports: exit 1, naming the heap and how to raise it. */
    static PgshiftException release(OutOfMemoryError e) {
        reserve = null;
        long mib = Runtime.getRuntime().maxMemory() >> 20;
        return new PgshiftException(ExitCode.INTERNAL, "out of memory (" + e.getMessage() + "; the heap may grow to " + mib + " MiB): "
                + "the run stopped where the report says. Give the Job more memory (the launcher gives the heap 75 % of the container's "
                + "limit) or set PGSHIFT_JAVA_OPTS=-Xmx<size>; a single very large migration file is the usual cause", e);
    }
}
