package dev.pgshift.source;

import dev.pgshift.ExitCode;
import dev.pgshift.PgshiftException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The lint's overrides a migration file writes on its statements: {@code -- pgshift:allow <rule> reason="..."} on a
 * line of its own, in the comments just above a statement (or inside it). Each names one rule and why; the finding
 * stays in plan, the report and the history, decided "allowed" with its reason.
 */
final class Allowances {
    static final String DIRECTIVE = "-- pgshift:allow";
    private static final Pattern LINE = Pattern.compile("(?m)^[ \\t]*--[ \\t]*pgshift:allow(?<rest>[^\\r\\n]*)");
    private static final Pattern REST = Pattern.compile("[ \\t]+(?<rule>[A-Za-z][A-Za-z-]*)[ \\t]+reason=\"(?<reason>[^\"]*)\"[ \\t]*");
    private static final Pattern LOOKALIKE = Pattern.compile("(?im)^[ \\t]*--.*pgshift[ \\t]*:[ \\t]*allow");

    /** Allowed rules by the line of the statement they stand on, with their reasons. */
    private final Map<Integer, Map<LintRule, String>> byStatement = new HashMap<>();

    private Allowances() {
    }

    /** The reason {@code rule} is allowed on the statement starting at {@code line}, or null. */
    String reason(int line, LintRule rule) {
        return byStatement.getOrDefault(line, Map.of()).get(rule);
    }

    /**
     * The file's allow directives, each tied to the statement it stands above or inside.
     *
     * @throws PgshiftException exit 3 naming file:line: an unknown rule, a missing or empty reason, a directive that is
     *                          not one as written, or one with no statement after it
     */
    static Allowances of(MigrationFile file, Iterable<SqlStatement> statements) {
        Allowances out = new Allowances();
        String text = file.content();
        if (!text.contains("pgshift") || !LOOKALIKE.matcher(text).find()) {
            return out;
        }
        record Directive(int line, LintRule rule, String reason) {
        }
        List<Directive> found = new ArrayList<>();
        Matcher m = LOOKALIKE.matcher(text);
        while (m.find()) {
            int line = lineOf(text, m.start());
            String where = file.displayPath() + ":" + line + ": ";
            int eol = text.indexOf('\n', m.start());
            Matcher d = LINE.matcher(text.substring(m.start(), eol < 0 ? text.length() : eol).stripTrailing());
            Matcher rest = d.matches() ? REST.matcher(d.group("rest")) : null;
            if (rest == null || !rest.matches()) {
                throw new PgshiftException(ExitCode.CONFIG, where + "this looks like a lint override but is not one as written: it is '" + DIRECTIVE
                        + " RULE reason=\"why\"' on a line of its own, just above the statement (rules: " + LintRule.ids() + ")");
            }
            LintRule rule = LintRule.byId(rest.group("rule"));
            if (rule == null) {
                throw new PgshiftException(ExitCode.CONFIG, where + "'" + rest.group("rule") + "' is no lint rule; the rules are " + LintRule.ids());
            }
            if (rest.group("reason").isBlank()) {
                throw new PgshiftException(ExitCode.CONFIG, where + "an override needs its reason: " + DIRECTIVE + " " + rule.id()
                        + " reason=\"why this is safe here\" (it goes to the report and the history)");
            }
            found.add(new Directive(line, rule, rest.group("reason").strip()));
        }
        int next = 0;
        for (SqlStatement s : statements) {
            int end = s.line() + (int) s.text().chars().filter(ch -> ch == '\n').count();
            while (next < found.size() && found.get(next).line() <= end) {
                Directive d = found.get(next++);
                out.byStatement.computeIfAbsent(s.line(), k -> new java.util.EnumMap<>(LintRule.class)).put(d.rule(), d.reason());
            }
        }
        if (next < found.size()) {
            throw new PgshiftException(ExitCode.CONFIG, file.displayPath() + ":" + found.get(next).line() + ": '" + DIRECTIVE + "' with no "
                    + "statement after it: put it just above the statement it allows");
        }
        return out;
    }

    private static int lineOf(String text, int at) {
        int line = 1;
        for (int i = 0; i < at; i++) {
            if (text.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }
}
