package dev.pgshift.migrate;

import io.quarkus.runtime.annotations.RegisterForReflection;
import java.time.Duration;

/**
 * How a backfill went, for the report and the run history.
 *
 * @param table    the table batched, as PostgreSQL names it
 * @param rows     rows the statement changed (or inserted) over all runs of this backfill
 * @param batches  batches committed over all runs
 * @param retries  batches of this run rolled back and retried (lock timeout, statement timeout, deadlock, serialization)
 * @param lagWaits batches of this run that waited for a lagging replica first
 * @param paused   this run's time in pauses between batches and in waits for replicas
 * @param resumed  whether this run went on from where an earlier one stopped
 */
@RegisterForReflection
public record BackfillStats(String table, long rows, long batches, long retries, long lagWaits, Duration paused, boolean resumed) {
}
