package dev.pgshift;

/**
 * SIGTERM and SIGINT from the process's first moment: until a command installs its own handling (the run's stop,
 * {@code db.StopSignal}), a signal is kept here instead of ending the JVM with 143 and no report. The command that
 * installs its handling then stops at once, through its usual path: exit 75, the report, the run's history row. Java only
 * (no logging, no Quarkus): it is installed before Quarkus starts.
 */
public final class EarlyStop {
    private static volatile String caught;
    private static volatile boolean claimed;

    private EarlyStop() {
    }

    /** Keeps SIGTERM and SIGINT until {@link #claim}. */
    public static void install() {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
                    if (claimed) {
                        return; // a command's handler replaced this one: a late delivery is theirs
                    }
                    caught = "SIG" + sig.getName();
                });
            } catch (IllegalArgumentException e) {
                // a platform without the signal: the JVM's default stays
            }
        }
    }

    /** The signal received before a command took over ("SIGTERM"), or null; from now on signals are the caller's. */
    public static String claim() {
        claimed = true;
        return caught;
    }
}
