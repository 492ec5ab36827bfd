package dev.pgshift.fleet;

import dev.pgshift.Json;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one shard's process did: its summary on stdout, the JSON report file (every tenant it ran) and the Kubernetes
 * termination message (counts, the failed tenants' names, the halt's reason; at most 4096 bytes).
 */
@io.quarkus.runtime.annotations.RegisterForReflection
record ShardReport(String release, int shard, String pod, int exitCode, String error, String haltReason, List<TenantRun.Result> tenants) {
    static final int TERMINATION_LIMIT = 4096;

    Map<String, Integer> counts() {
        Map<String, Integer> counts = new TreeMap<>();
        tenants.forEach(t -> counts.merge(t.status(), 1, Integer::sum));
        return counts;
    }

    List<String> failed() {
        return tenants.stream().filter(t -> !t.status().equals(ControlTable.SUCCEEDED)).map(TenantRun.Result::tenant).toList();
    }

    void print(PrintWriter out) {
        StringBuilder counts = new StringBuilder();
        counts().forEach((k, v) -> counts.append(counts.length() == 0 ? "" : ", ").append(v).append(' ').append(k));
        out.printf("pgshift fleet run: release %s, shard %d: %s (exit %d)%n", release, shard,
                tenants.isEmpty() ? "no tenant run" : tenants.size() + " tenant run(s): " + counts, exitCode);
        if (haltReason != null) {
            out.println("  release halted: " + haltReason);
        }
        out.flush();
    }

    void publish(Path reportFile, Path terminationLog) {
        new dev.pgshift.report.ReportPublisher(reportFile, terminationLog).writeFiles(this, this::compact);
    }

    /** The termination message: the failed tenants' names are cut (with a count of the rest) to stay within the limit. */
    String compact() {
        List<String> failed = failed();
        for (int keep = failed.size(); ; keep = keep / 2) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("release", release);
            m.put("shard", shard);
            m.put("exitCode", exitCode);
            m.put("counts", counts());
            m.put("notSucceeded", failed.subList(0, keep));
            if (keep < failed.size()) {
                m.put("notSucceededMore", failed.size() - keep);
            }
            m.put("halt", cut(haltReason));
            m.put("error", cut(error));
            try {
                String s = Json.ONE_LINE.writeValueAsString(m);
                if (s.getBytes(StandardCharsets.UTF_8).length <= TERMINATION_LIMIT || keep == 0) {
                    return s;
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static String cut(String s) {
        return s == null || s.length() <= 800 ? s : s.substring(0, 800) + "...";
    }
}
