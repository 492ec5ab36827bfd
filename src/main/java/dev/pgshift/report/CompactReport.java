package dev.pgshift.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgshift.Json;
import java.nio.charset.StandardCharsets;

/**
 * The report squeezed into Kubernetes' termination message (at most 4096 bytes). Outcome, exit code, failed phase and
 * error always survive; the rest (migration list, failed checks, backup file) is dropped from the end when it does not
 * fit, and the error is cut last.
 */
final class CompactReport {
    public static final int LIMIT = 4096;

    private CompactReport() {
    }

    public static String of(Report r) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("runId", r.runId());
        n.put("command", r.command());
        n.put("outcome", r.outcome());
        n.put("exitCode", r.exitCode());
        n.put("failedPhase", r.failedPhase());
        n.put("error", r.error());
        n.put("database", r.database());
        n.put("tls", r.tls());
        n.put("applied", r.migrations().size());
        if (!r.migrations().isEmpty()) {
            n.put("lastApplied", r.migrations().get(r.migrations().size() - 1).version());
        }
        if (r.backup() != null) {
            n.put("backup", r.backup().label());
        }
        ArrayNode failedChecks = n.putArray("failedChecks");
        r.checks().stream().filter(c -> c.outcome().equals("FAILED")).forEach(c -> failedChecks.add(c.name()));
        ArrayNode versions = n.putArray("migrations");
        r.migrations().forEach(m -> versions.add(m.version()));
        String[] optional = {"migrations", "failedChecks", "backup", "lastApplied", "database"};
        int i = 0;
        while (size(n) > LIMIT && i < optional.length) {
            n.remove(optional[i++]);
        }
        if (size(n) > LIMIT && r.error() != null) {
            int keep = Math.max(0, r.error().length() - (size(n) - LIMIT) - 16);
            n.put("error", r.error().substring(0, keep) + " …[cut]");
            while (size(n) > LIMIT && keep > 0) {
                keep = Math.max(0, keep - 64);
                n.put("error", r.error().substring(0, keep) + " …[cut]");
            }
        }
        return write(n);
    }

    private static int size(ObjectNode n) {
        return write(n).getBytes(StandardCharsets.UTF_8).length;
    }

    private static String write(ObjectNode n) {
        try {
            return Json.ONE_LINE.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
