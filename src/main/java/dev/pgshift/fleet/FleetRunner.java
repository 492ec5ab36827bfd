package dev.pgshift.fleet;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.FleetSettings;
import dev.pgshift.config.Setting;
import dev.pgshift.config.Settings;
import dev.pgshift.db.Database;
import dev.pgshift.db.DatabaseWaiter;
import dev.pgshift.db.StopSignal;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * pgshift fleet run: one shard of a release (one pod of the Indexed Job). It freezes the release if no pod has yet,
 * takes the shard's lock in the control database (a replacement pod waits for a dying one), then runs its tenants wave
 * by wave, each with the whole single-database routine; before each wave after the first it waits until the wave before
 * has ended on every shard, and halts the release when that wave did not succeed everywhere. A failed canary, or the
 * same error on --halt-after tenants, halts the release at once: no pod starts another tenant.
 */
public final class FleetRunner {
    private static final Logger LOG = Logger.getLogger(FleetRunner.class);

    private final Settings settings;
    private final boolean retryFailed;
    private final FleetSettings fleet;
    private final String version;
    private final PrintWriter out;
    private final StopSignal stop = new StopSignal();
    private final String pod = Pods.name();
    private final List<TenantRun.Result> results = new ArrayList<>();
    private volatile String haltReason;
    private ExitCode code = ExitCode.INTERNAL;

    /** @param retryFailed run the shard's failed tenants again (a tenant's failure is otherwise final for the release) */
    public FleetRunner(Settings settings, String version, PrintWriter out, boolean retryFailed) {
        this.retryFailed = retryFailed;
        this.settings = settings;
        this.fleet = Pods.fleet(settings);
        this.version = version;
        this.out = out;
    }

    /**
     * Runs the shard, publishes its report and prints its summary; returns the error that ended it, if any (for stderr).
     * {@link #exitCode()} tells Kubernetes what to do with the index (the chart's podFailurePolicy).
     */
    public PgshiftException run() {
        stop.install();
        int shard = Pods.shard(fleet);
        PgshiftException failure = null;
        try {
            code = runShard(shard);
        } catch (PgshiftException e) {
            code = e.exitCode();
            failure = e;
        }
        List<TenantRun.Result> ran;
        synchronized (results) {
            ran = List.copyOf(results);
        }
        ShardReport report = new ShardReport(fleet.release(), shard, pod, code.code(), failure == null ? null : failure.getMessage(), haltReason, ran);
        report.publish(settings.reportFile(), settings.terminationLog());
        report.print(out);
        return failure;
    }

    public int exitCode() {
        return code.code();
    }

    private ExitCode runShard(int shard) {
        Pods.Target target = Pods.target(settings);
        Database control = Database.of(settings, stop);
        try (Connection c = new DatabaseWaiter(control, stop).connect(settings.connectTimeout())) {
            Release.Frozen frozen = Release.open(fleet, c, target, true);
            LOG.infof("release %s: %d tenant(s), %d shard(s), waves %s, migrations up to %s; this is shard %d (%s)", fleet.release(),
                    frozen.release().tenants(), fleet.shards(), fleet.waves(), target.version(), shard, pod);
            if (halted(c)) {
                return ExitCode.HALTED;
            }
            lockShard(c, shard);
            List<ControlTable.Tenant> all = frozen.tenants();
            if (all.stream().noneMatch(t -> t.shard() == shard)) {
                LOG.warnf("shard %d has no tenant: %d tenant(s) in %d shard(s); it waits for the waves and exits 0", shard, all.size(),
                        fleet.shards());
            }
            int waves = all.stream().mapToInt(ControlTable.Tenant::wave).max().orElse(0) + 1;
            for (int wave = 0; wave < waves; wave++) {
                if (wave > 0 && !previousWaveSucceeded(c, shard, wave - 1)) {
                    return haltReason != null ? ExitCode.HALTED : ExitCode.TEMPORARY;
                }
                int w = wave;
                List<ControlTable.Tenant> todo = ControlTable.tenants(c, fleet.release(), shard).stream()
                        .filter(t -> t.wave() == w && !t.status().equals(ControlTable.SUCCEEDED)
                                && (retryFailed || !t.status().equals(ControlTable.FAILED))).toList();
                runAll(c, todo);
                if (stop.stopped()) {
                    return ExitCode.TEMPORARY;
                }
                if (haltReason != null) {
                    return ExitCode.HALTED;
                }
            }
            return outcome(ControlTable.tenants(c, fleet.release(), shard));
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "the control database " + settings.connection().describe() + " failed: "
                    + DatabaseWaiter.describe(e), e);
        }
    }

    /** The shard's exit once its waves are done: 75 for a tenant to retry, else 20 where one failed (now or before), else 0. */
    private ExitCode outcome(List<ControlTable.Tenant> mine) {
        if (haltReason != null) {
            return ExitCode.HALTED; // this pod's last tenant halted the release
        }
        if (results.stream().anyMatch(r -> r.status().equals(ControlTable.RETRY))) {
            return ExitCode.TEMPORARY;
        }
        // A failure is final for the release (an index retried after 75 does not run it again): the shard did not succeed.
        List<String> failed = mine.stream().filter(t -> t.status().equals(ControlTable.FAILED)).map(ControlTable.Tenant::name).toList();
        if (!failed.isEmpty() && results.stream().noneMatch(r -> r.status().equals(ControlTable.FAILED))) {
            LOG.errorf("tenant(s) of this shard failed in an earlier attempt and were not run again: %s (fleet run --retry-failed runs "
                    + "them again)", String.join(", ", failed));
        }
        return failed.isEmpty() ? ExitCode.OK : ExitCode.TENANTS_FAILED;
    }

    /**
     * Runs {@code todo} (one wave of this shard), --tenants-at-once of them at a time; a tenant is started only while the
     * release is not halted and the process not stopped.
     */
    private void runAll(Connection c, List<ControlTable.Tenant> todo) throws SQLException {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(fleet.tenantsAtOnce(), r -> {
            Thread t = new Thread(r, "pgshift-tenant");
            t.setDaemon(true);
            return t;
        });
        try {
            List<java.util.concurrent.Future<Void>> running = new ArrayList<>();
            for (ControlTable.Tenant t : todo) {
                running.add(pool.submit(() -> {
                    one(c, t);
                    return null;
                }));
            }
            for (java.util.concurrent.Future<Void> f : running) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof SQLException sql) {
                        throw sql;
                    }
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw stop.stoppedException("while running tenants");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void one(Connection c, ControlTable.Tenant t) throws SQLException {
        synchronized (c) {
            if (stop.stopped() || halted(c)) {
                return;
            }
        }
        TenantRun.Result r = new TenantRun(settings, fleet, version, stop, pod).run(c, t);
        synchronized (results) {
            results.add(r);
            out.println(r.line());
            out.flush();
        }
        if (r.status().equals(ControlTable.FAILED)) {
            synchronized (c) {
                haltOn(c, t, r);
            }
        }
    }

    /** Whether the release is halted (by any pod); its reason is kept for the report. */
    private boolean halted(Connection c) throws SQLException {
        ControlTable.Release r = ControlTable.release(c, fleet.release());
        if (r != null && r.haltReason() != null) {
            haltReason = r.haltReason();
            LOG.errorf("release %s is halted: %s", fleet.release(), haltReason);
            return true;
        }
        return false;
    }

    /** A failed canary halts the release; so does the same error on --halt-after tenants. */
    private void haltOn(Connection c, ControlTable.Tenant t, TenantRun.Result r) throws SQLException {
        if (t.wave() == 0) {
            haltReason = ControlTable.halt(c, fleet.release(), "the canary wave's tenant " + t.name() + " failed (" + r.errorClass() + "): "
                    + r.error());
            return;
        }
        List<String> same = ControlTable.failedWith(c, fleet.release(), r.errorClass());
        if (same.size() >= fleet.haltAfter()) {
            haltReason = ControlTable.halt(c, fleet.release(), "the same error (" + r.errorClass() + ") on " + same.size() + " tenants ("
                    + String.join(", ", same.subList(0, Math.min(10, same.size()))) + (same.size() > 10 ? ", ..." : "") + "), "
                    + Setting.HALT_AFTER.flag() + " " + fleet.haltAfter() + "; the last, " + t.name() + ": " + r.error());
        }
    }

    /**
     * Waits until every tenant of {@code wave} has ended (on every shard); false when the release halted, when the wave did
     * not succeed everywhere (this halts it), or when this shard's own tenants of it need a retry (75: the index's next
     * pod runs them again). Past --wave-wait: exit 75.
     */
    private boolean previousWaveSucceeded(Connection c, int shard, int wave) throws SQLException {
        long deadline = System.nanoTime() + fleet.waveWait().toNanos();
        long sleep = 200;
        boolean said = false;
        while (true) {
            if (halted(c)) {
                return false;
            }
            List<ControlTable.Tenant> inWave = ControlTable.tenants(c, fleet.release(), null).stream().filter(t -> t.wave() == wave).toList();
            if (inWave.stream().anyMatch(t -> t.shard() == shard && !t.done())) {
                LOG.warnf("wave %d: tenants of this shard need another attempt: exiting 75 for the index's next pod", wave);
                return false;
            }
            List<String> failed = inWave.stream().filter(t -> t.status().equals(ControlTable.FAILED)).map(ControlTable.Tenant::name).toList();
            long open = inWave.stream().filter(t -> !t.done()).count();
            if (open == 0 && failed.isEmpty()) {
                return true;
            }
            if (open == 0) {
                haltReason = ControlTable.halt(c, fleet.release(), "wave " + wave + " did not succeed everywhere: " + failed.size() + " of "
                        + inWave.size() + " tenants failed (" + String.join(", ", failed.subList(0, Math.min(10, failed.size())))
                        + (failed.size() > 10 ? ", ..." : "") + "); wave " + (wave + 1) + " is not started");
                LOG.errorf("release %s is halted: %s", fleet.release(), haltReason);
                return false;
            }
            if (System.nanoTime() > deadline) {
                throw new PgshiftException(ExitCode.TEMPORARY, "wave " + wave + " of release " + fleet.release() + " has " + open
                        + " tenant(s) not ended after " + dev.pgshift.Durations.display(fleet.waveWait()) + " ("
                        + Setting.WAVE_WAIT.displayName() + "): is a shard's pod failing or gone? pgshift fleet status --release "
                        + fleet.release() + " shows which");
            }
            if (!said) {
                LOG.infof("wave %d: waiting for %d tenant(s) on other shards before wave %d", wave, open, wave + 1);
                said = true;
            }
            stop.sleep(sleep);
            stop.checkStop("while waiting for wave " + wave + " on the other shards");
            sleep = Math.min(sleep * 2, 2000);
        }
    }

    /** One pod per shard: a replacement waits (up to --lock-wait) for the pod it replaces to be gone. */
    private void lockShard(Connection c, int shard) throws SQLException {
        long deadline = System.nanoTime() + settings.lockWait().toNanos();
        try (PreparedStatement ps = c.prepareStatement("select pg_try_advisory_lock(hashtext('pgshift.fleet/' || ?), ?)")) {
            ps.setString(1, fleet.release());
            ps.setInt(2, shard);
            boolean said = false;
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new PgshiftException(ExitCode.TEMPORARY, "shard " + shard + " of release " + fleet.release() + " is being run by "
                            + "another process still (its session holds the shard's lock in the control database) after "
                            + dev.pgshift.Durations.display(settings.lockWait()) + " (" + Setting.LOCK_WAIT.displayName() + ")");
                }
                if (!said) {
                    LOG.warnf("shard %d of release %s is held by another process: waiting for it to end", shard, fleet.release());
                    said = true;
                }
                stop.sleep(1000);
                stop.checkStop("while waiting for shard " + shard + "'s lock");
            }
        }
    }
}
