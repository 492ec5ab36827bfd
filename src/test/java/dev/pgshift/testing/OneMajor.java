package dev.pgshift.testing;

/**
 * The tag of integration tests whose outcome does not depend on the server's major (what pgshift does with files,
 * processes and its own output): {@code .ci/pg-majors.sh} runs them on PostgreSQL 15 only ({@code -DexcludedGroups}
 * on the others), which keeps CI's run of every major inside its time.
 */
public final class OneMajor {
    public static final String TAG = "one-major";

    private OneMajor() {
    }
}
