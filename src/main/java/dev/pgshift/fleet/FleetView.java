package dev.pgshift.fleet;

import dev.pgshift.ExitCode;
import dev.pgshift.Json;
import dev.pgshift.PgshiftException;
import dev.pgshift.config.FleetSettings;
import dev.pgshift.config.Settings;
import dev.pgshift.db.Database;
import dev.pgshift.db.DatabaseWaiter;
import dev.pgshift.db.StopSignal;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/** pgshift fleet plan and fleet status: read the control database, change nothing. */
public final class FleetView {
    private final Settings settings;
    private final FleetSettings fleet;
    private final PrintWriter out;

    public FleetView(Settings settings, PrintWriter out) {
        this.settings = settings;
        this.fleet = Pods.fleet(settings);
        this.out = out;
    }

    /** The release as frozen, or as fleet run would freeze it now: waves and shards. */
    public int plan(boolean json) {
        Pods.Target target = Pods.target(settings);
        Release.Frozen f = read(c -> Release.open(fleet, c, target, false));
        if (json) {
            f.tenants().forEach(t -> line(placed(t)));
            return 0;
        }
        out.printf("pgshift fleet plan: release %s, %s%n", fleet.release(), f.frozen() ? "frozen " + f.release().createdAt()
                + " (pgshift fleet status shows how it goes)" : "not frozen yet: the first pod of pgshift fleet run freezes this list");
        header(f.release());
        waves(f.tenants(), false);
        Map<Integer, Long> shards = f.tenants().stream().collect(Collectors.groupingBy(ControlTable.Tenant::shard, TreeMap::new,
                Collectors.counting()));
        out.println("  shards     " + shards.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining(", ")));
        out.flush();
        return 0;
    }

    /**
     * The roll-up: counts by status, version and error, durations, the tenants that did not succeed; --json a line per
     * tenant. With {@code exitCode}: 21 halted, 20 a tenant failed, 10 tenants not yet succeeded, 0 all succeeded.
     */
    public int status(boolean json, boolean exitCode) {
        java.util.Set<Integer> gone = new java.util.TreeSet<>();
        Release.Frozen f = read(c -> {
            ControlTable.Release r = ControlTable.release(c, fleet.release());
            if (r == null) {
                throw new PgshiftException(ExitCode.CONFIG, "no release '" + fleet.release() + "' in " + ControlTable.RELEASES + " on "
                        + settings.connection().describe() + ": pgshift fleet run freezes a release when its first pod starts "
                        + "(pgshift fleet plan shows what it would freeze)");
            }
            List<ControlTable.Tenant> ts = ControlTable.tenants(c, r.id(), null);
            gone.addAll(ControlTable.shardsWithoutPod(c, r.id(), ts.stream().filter(t -> t.status().equals(ControlTable.RUNNING))
                    .map(ControlTable.Tenant::shard).distinct().toList()));
            return new Release.Frozen(r, ts, true);
        });
        int code = exitCode ? code(f) : 0;
        if (json) {
            for (ControlTable.Tenant t : f.tenants()) {
                Map<String, Object> m = placed(t);
                m.put("status", t.status());
                m.put("versionBefore", t.versionBefore());
                m.put("versionAfter", t.versionAfter());
                m.put("errorClass", t.errorClass());
                m.put("error", t.error());
                m.put("exitCode", t.exitCode());
                m.put("attempt", t.attempt());
                m.put("pod", t.pod());
                m.put("startedAt", t.startedAt());
                m.put("finishedAt", t.finishedAt());
                m.put("durationMs", duration(t) == null ? null : duration(t).toMillis());
                line(m);
            }
            return code;
        }
        ControlTable.Release r = f.release();
        out.printf("pgshift fleet status: release %s, frozen %s%n", r.id(), r.createdAt());
        header(r);
        if (r.haltReason() != null) {
            out.println("  HALTED     " + r.haltedAt() + ": " + r.haltReason());
        }
        List<ControlTable.Tenant> ts = f.tenants();
        out.println("  status     " + counted(ts, ControlTable.Tenant::status));
        out.println("  version    " + counted(ts, t -> t.attempt() == 0 ? "not run yet" : t.versionAfter() == null ? "none" : t.versionAfter())
                + " (after each tenant's last run in this release)");
        List<ControlTable.Tenant> erred = ts.stream().filter(t -> t.errorClass() != null && !t.status().equals(ControlTable.SUCCEEDED)).toList();
        if (!erred.isEmpty()) {
            out.println("  errors     " + counted(erred, ControlTable.Tenant::errorClass));
        }
        waves(ts, true);
        List<Long> ms = ts.stream().map(FleetView::duration).filter(java.util.Objects::nonNull).map(Duration::toMillis).sorted().toList();
        if (!ms.isEmpty()) {
            out.printf("  duration   p50 %.2fs, p95 %.2fs, max %.2fs (the last runs of %d tenant(s); the release's wall time %s)%n", rank(ms, 50) / 1000.0,
                    rank(ms, 95) / 1000.0, ms.get(ms.size() - 1) / 1000.0, ms.size(), wall(ts));
        }
        List<ControlTable.Tenant> bad = ts.stream().filter(t -> !t.status().equals(ControlTable.SUCCEEDED) && t.attempt() > 0).toList();
        if (!bad.isEmpty()) {
            out.println("  not succeeded:");
            bad.stream().limit(50).forEach(t -> out.printf("    %-24s wave %d  shard %d  attempt %d  %s%s%n", t.name(), t.wave(), t.shard(),
                    t.attempt(), t.status().equals(ControlTable.RUNNING) && gone.contains(t.shard()) ? "running, but no pod holds shard "
                            + t.shard() + " now (killed? its next pod runs it again)" : t.status(),
                    t.error() == null ? "" : "  " + failure(t.exitCode(), t.errorClass(), t.error())));
            if (bad.size() > 50) {
                out.println("    ... and " + (bad.size() - 50) + " more (--json lists every tenant)");
            }
        }
        out.flush();
        return code;
    }

    private static int code(Release.Frozen f) {
        if (f.release().haltReason() != null) {
            return ExitCode.HALTED.code();
        }
        if (f.tenants().stream().anyMatch(t -> t.status().equals(ControlTable.FAILED))) {
            return ExitCode.TENANTS_FAILED.code();
        }
        return f.tenants().stream().allMatch(t -> t.status().equals(ControlTable.SUCCEEDED)) ? 0 : ExitCode.PENDING.code();
    }

    /** How a tenant's failure is shown: its exit code, its SQLSTATE where it has one, its first line. */
    static String failure(int exitCode, String errorClass, String error) {
        return (errorClass == null || !errorClass.startsWith("exit ") ? "exit " + exitCode + (errorClass == null ? "" : " " + errorClass)
                : errorClass) + ": " + error;
    }

    private void header(ControlTable.Release r) {
        out.printf("  tenants    %d in %d shard(s), waves %s, halt after the same error on %d, migrations up to %s%n", r.tenants(),
                r.shards(), r.waves(), r.haltAfter(), r.target());
    }

    private void waves(List<ControlTable.Tenant> ts, boolean withStatus) {
        Map<Integer, List<ControlTable.Tenant>> byWave = ts.stream().collect(Collectors.groupingBy(ControlTable.Tenant::wave, TreeMap::new,
                Collectors.toList()));
        List<String> parts = new ArrayList<>();
        byWave.forEach((w, list) -> parts.add("wave " + w + ": " + list.size() + (withStatus ? " (" + counted(list, ControlTable.Tenant::status) + ")"
                : " (" + list.get(0).name() + (list.size() > 1 ? " .. " + list.get(list.size() - 1).name() : "") + ")")));
        out.println("  waves      " + String.join("; ", parts));
    }

    private static String counted(List<ControlTable.Tenant> ts, Function<ControlTable.Tenant, String> key) {
        Map<String, Long> m = ts.stream().collect(Collectors.groupingBy(key, TreeMap::new, Collectors.counting()));
        return m.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining(", "));
    }

    private static Duration duration(ControlTable.Tenant t) {
        return t.startedAt() == null || t.finishedAt() == null ? null : Duration.between(t.startedAt(), t.finishedAt());
    }

    /** Nearest rank. */
    private static long rank(List<Long> sorted, int percentile) {
        int i = (int) Math.ceil(percentile / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(i, sorted.size() - 1)));
    }

    private static String wall(List<ControlTable.Tenant> ts) {
        var first = ts.stream().map(ControlTable.Tenant::startedAt).filter(java.util.Objects::nonNull).min(java.time.Instant::compareTo);
        var last = ts.stream().map(ControlTable.Tenant::finishedAt).filter(java.util.Objects::nonNull).max(java.time.Instant::compareTo);
        return first.isPresent() && last.isPresent() ? String.format("%.1fs", Duration.between(first.get(), last.get()).toMillis() / 1000.0) : "-";
    }

    /** A tenant's JSON line as fleet plan prints it: where the release puts it. */
    private Map<String, Object> placed(ControlTable.Tenant t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("release", fleet.release());
        m.put("tenant", t.name());
        m.put("position", t.position());
        m.put("wave", t.wave());
        m.put("shard", t.shard());
        return m;
    }

    private void line(Map<String, Object> m) {
        try {
            out.println(Json.ONE_LINE.writeValueAsString(m));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @FunctionalInterface
    private interface Read<T> {
        T apply(Connection c) throws SQLException;
    }

    private <T> T read(Read<T> body) {
        StopSignal stop = new StopSignal();
        stop.install();
        try (Connection c = new DatabaseWaiter(Database.of(settings, stop), stop).connect(settings.connectTimeout())) {
            return body.apply(c);
        } catch (SQLException e) {
            throw new PgshiftException(ExitCode.TEMPORARY, "the control database " + settings.connection().describe() + " failed: "
                    + DatabaseWaiter.describe(e), e);
        }
    }
}
