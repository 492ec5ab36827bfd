package dev.pgshift.cli;

import dev.pgshift.migrate.AppliedMigration;
import dev.pgshift.migrate.PlannedMigration;
import dev.pgshift.report.HistoryTable;
import dev.pgshift.report.Outcome;
import dev.pgshift.report.PhaseResult;
import dev.pgshift.report.RunResult;
import dev.pgshift.run.Plan;
import dev.pgshift.run.RollbackPlan;
import dev.pgshift.source.Finding;
import dev.pgshift.verify.CheckResult;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** The human summaries commands print on stdout. */
final class Rendering {

    private Rendering() {
    }

    static void summary(PrintWriter out, RunResult r) {
        out.printf("pgshift %s: %s (exit %d) in %s%n", r.command(), r.outcome(), r.exitCode(), seconds(r.duration()));
        if (r.database() != null) {
            out.printf("  database  %s (PostgreSQL %s; TLS %s)%n", r.database(), r.serverVersion(), r.tls());
        }
        for (PhaseResult p : r.phases()) {
            out.printf("  %-9s %-9s %7s%s%n", p.name(), p.outcome(), seconds(p.duration()),
                    p.detail() != null && p.outcome() != Outcome.FAILED ? "  " + p.detail() : "");
        }
        String label = switch (r.command()) {
            case "repair" -> "repaired";
            case "rollback" -> "rolled back";
            default -> "applied";
        };
        if (r.migrations().isEmpty()) {
            if (!List.of("verify", "backup", "restore").contains(r.command())) {
                out.printf("  %-9s none%n", label); // commands that never apply a migration do not say so
            }
        } else {
            out.printf("  %-9s %d migration(s):%n", label, r.migrations().size());
            for (AppliedMigration m : r.migrations()) {
                out.printf("    %-20s %-19s %7s  %s%n", m.version(), m.mode(), seconds(m.duration()), m.script());
                if (m.backfill() != null) {
                    var b = m.backfill();
                    out.printf("    %-20s %d row(s) written, batched along %s in %d batch(es)%s, %d retried, %d wait(s) for replicas, %s paused%n", "", b.rows(), b.table(),
                            b.batches(), b.resumed() ? " (resumed)" : "", b.retries(), b.lagWaits(), seconds(b.paused()));
                }
            }
        }
        if (r.backup() != null && r.backup().restorePoint() != null) {
            var p = r.backup().restorePoint();
            out.printf("  backup    %s at LSN %s (WAL file %s, timeline %d, archived)%n", r.backup().label(), p.lsn(), p.walFile(), p.timeline());
            out.printf("            how to go back to it: pgshift restore --show-recipe --restore-point %s%n", p.name());
        } else if (r.backup() != null) {
            out.printf("  backup    %s (%d bytes, sha256 %s…)%n", r.backup().file(), r.backup().sizeBytes(), r.backup().sha256().substring(0, 12));
        }
        for (CheckResult c : r.checks()) {
            if (c.status() != CheckResult.Status.PASSED) {
                out.printf("  check     %-7s %s: %s%n", c.status(), c.name(), c.detail());
            }
        }
        if (!r.checks().isEmpty()) {
            long passed = r.checks().stream().filter(c -> c.status() == CheckResult.Status.PASSED).count();
            out.printf("  checks    %d of %d passed%n", passed, r.checks().size());
        }
        for (String w : r.warnings()) {
            out.println("  warning   " + w);
        }
        if (r.reason() != null) {
            out.println("  reason    " + r.reason());
        }
        if (r.error() != null) {
            String how = r.outcome() == Outcome.STOPPED ? "stopped" : "failed";
            out.printf("  %s%s: %s%n", how, r.failedPhase() == null ? "" : " in " + r.failedPhase(), r.error());
        }
        out.flush();
    }

    /** pgshift history: one line a run, in columns as wide as their widest value. */
    static void history(PrintWriter out, List<HistoryTable.Entry> entries) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("started (UTC)", "command", "outcome", "exit", "duration", "versions", "backup", "pgshift", "host", "user", "reason"));
        DateTimeFormatter when = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
        for (HistoryTable.Entry e : entries) {
            rows.add(List.of(when.format(e.startedAt().toInstant()), e.command(), e.outcome(), String.valueOf(e.exitCode()),
                    seconds(Duration.between(e.startedAt().toInstant(), e.finishedAt().toInstant())), dash(e.versions()), dash(e.backup()),
                    dash(e.pgshiftVersion()), dash(e.host()), dash(e.osUser()), dash(e.reason())));
        }
        int[] width = new int[rows.get(0).size()];
        for (List<String> row : rows) {
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < width.length; i++) {
                String cell = row.get(i);
                boolean right = i == 3 || i == 4; // exit code and duration: numbers, right-aligned
                line.append(right ? " ".repeat(width[i] - cell.length()) + cell : i == width.length - 1 ? cell : cell + " ".repeat(width[i] - cell.length()));
                line.append("  ");
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static String dash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }

    static void rollbackPlan(PrintWriter out, RollbackPlan plan) {
        out.printf("rollback to %s: %d migration(s) to roll back, newest first%n", plan.to(), plan.scripts().size());
        plan.scripts().forEach(m -> out.printf("  %-20s %-19s %s%n", m.version(), m.rollback().mode().label(),
                m.rollback().file().displayPath()));
        if (!plan.missing().isEmpty()) {
            out.printf("refused: no rollback script for %s%n", String.join(", ", plan.missing()));
        }
        out.flush();
    }

    static void plan(PrintWriter out, Plan plan) {
        List<PlannedMigration> migrations = plan.migrations();
        long pending = plan.pending().size();
        out.printf("database %s at version %s: %d applied, %d pending%n", plan.database(),
                plan.currentVersion() == null ? "<empty>" : plan.currentVersion(), migrations.size() - pending, pending);
        for (PlannedMigration m : migrations) {
            out.printf("  %-8s %-4s %-20s %-19s %s%n", m.state(), m.phase() == null ? "" : m.phase(), m.version(),
                    m.mode() == null ? "-" : m.mode(), m.script());
            PlannedMigration.BackfillPlan b = m.backfill();
            if (b != null) {
                out.printf("  %-8s %-4s %-20s %s%n", "", "", "", b.key().isEmpty() ? "backfill of " + b.table() + ", which an earlier pending migration creates or changes: its key is checked when it runs"
                        : String.format("backfill of %s by (%s): about %d row(s), about %d batch(es) at the first size%s; %s", b.table(), String.join(", ", b.key()),
                                b.estimatedRows(), b.estimatedBatches(), b.rowsDone() > 0 ? ", resumes after " + b.rowsDone() + " row(s) done" : "",
                                b.options()));
            }
        }
        plan.adoption().notes().forEach(n -> out.println("note: " + n));
        plan.notes().forEach(n -> out.println("note: " + n));
        plan.skipped().forEach(n -> out.println("skipped: " + n));
        List<Finding> findings = plan.findings();
        if (!findings.isEmpty()) {
            out.printf("%d finding(s) (plan for downtime):%n", findings.size());
            for (Finding f : findings) {
                out.printf("  %s%s:%d: %s%n    %s.%n    evidence: %s%n    safer: %s%n", f.decision().equals(Finding.WARN) ? ""
                        : f.decision().equals(Finding.ALLOWED) ? "allowed (" + f.reason() + "): " : "REFUSED: ", f.file(), f.line(), f.statement(),
                        f.risk(), f.evidence(), f.saferForm());
            }
        }
        long under = plan.lint().size() - findings.size();
        if (under > 0) {
            out.printf("%d statement(s) touch a lint rule on a table under the rule's threshold (plan --json lists them with their evidence)%n", under);
        }
        out.flush();
    }

    static String seconds(Duration d) {
        return String.format("%.2fs", d.toMillis() / 1000.0);
    }
}
