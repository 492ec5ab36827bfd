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
 * line of its own, in the comments just above a statement. Each names one rule and why; the finding stays in plan, the
 * report and the history, decided "allowed" with its reason. Text inside a statement (a string literal, a function's
 * body) is the statement's, never an override; anything else that mentions pgshift:allow and is not one as written is
 * refused, so that no one believes a statement allowed that is not.
 */
final class Allowances {
    static final String DIRECTIVE = "-- pgshift:allow";
    private static final Pattern LINE = Pattern.compile("[ \\t]*-- ?pgshift:allow(?<rest>.*)");
    private static final Pattern REST = Pattern.compile("[ \\t]+(?<rule>[A-Za-z][A-Za-z-]*)[ \\t]+reason=\"(?<reason>[^\"]*)\"[ \\t]*");
    private static final Pattern MENTION = Pattern.compile("pgshift[ \\t]*:[ \\t]*allow", Pattern.CASE_INSENSITIVE);

    /** Allowed rules by the line of the statement they stand on, with their reasons. */
    private final Map<Integer, Map<LintRule, String>> byStatement = new HashMap<>();

    private Allowances() {
    }

    /** The reason {@code rule} is allowed on the statement starting at {@code line}, or null. */
    String reason(int line, LintRule rule) {
        return byStatement.getOrDefault(line, Map.of()).get(rule);
    }

    /**
     * The file's allow directives, each tied to the statement after it.
     *
     * @throws PgshiftException exit 3 naming file:line: an unknown rule, a missing or empty reason, a mention of
     *                          pgshift:allow outside the statements that is not a directive as written, or one with no
     *                          statement after it
     */
    static Allowances of(MigrationFile file, Iterable<SqlStatement> statements) {
        Allowances out = new Allowances();
        String text = file.content();
        Matcher mention = MENTION.matcher(text);
        List<Integer> at = new ArrayList<>();
        while (mention.find()) {
            at.add(mention.start());
        }
        if (at.isEmpty()) {
            return out;
        }
        Lines lines = new Lines(text);
        int next = 0;
        int pos = 0;
        for (SqlStatement s : statements) {
            int start = text.indexOf(s.text(), pos);
            start = start < 0 ? pos : start;
            int end = start + s.text().length();
            for (; next < at.size() && at.get(next) < start; next++) { // in the comments before the statement: a directive, or refused
                String[] d = directive(file, text, at.get(next), lines.of(at.get(next)));
                out.byStatement.computeIfAbsent(s.line(), k -> new java.util.EnumMap<>(LintRule.class)).put(LintRule.byId(d[0]), d[1]);
            }
            while (next < at.size() && at.get(next) < end) { // the statement's own text: a literal, a function's body
                next++;
            }
            if (next == at.size()) {
                return out;
            }
            pos = end;
        }
        int line = lines.of(at.get(next));
        directive(file, text, at.get(next), line);
        throw new PgshiftException(ExitCode.CONFIG, file.displayPath() + ":" + line + ": '" + DIRECTIVE + "' with no statement after it: put "
                + "it just above the statement it allows");
    }

    /** Line numbers of offsets asked in increasing order, counted once over the text. */
    private static final class Lines {
        private final String text;
        private int line = 1;
        private int at;

        Lines(String text) {
            this.text = text;
        }

        int of(int offset) {
            for (; at < offset; at++) {
                line += text.charAt(at) == '\n' ? 1 : 0;
            }
            return line;
        }
    }

    /** The directive whose mention of pgshift:allow is at {@code at} (on {@code line}): its rule id, reason and line. */
    private static String[] directive(MigrationFile file, String text, int at, int line) {
        String where = file.displayPath() + ":" + line + ": ";
        int bol = text.lastIndexOf('\n', at) + 1;
        int eol = text.indexOf('\n', at);
        String whole = text.substring(bol, eol < 0 ? text.length() : eol).stripTrailing();
        Matcher d = LINE.matcher(whole);
        Matcher rest = d.matches() ? REST.matcher(d.group("rest")) : null;
        if (rest == null || !rest.matches()) {
            throw new PgshiftException(ExitCode.CONFIG, where + "this looks like a lint override but is not one as written: it is '" + DIRECTIVE
                    + " RULE reason=\"why\"' in lower case, on a line of its own, just above the statement (rules: " + LintRule.ids() + ")");
        }
        LintRule rule = LintRule.byId(rest.group("rule"));
        if (rule == null) {
            throw new PgshiftException(ExitCode.CONFIG, where + "'" + rest.group("rule") + "' is no lint rule; the rules are " + LintRule.ids());
        }
        if (rest.group("reason").isBlank()) {
            throw new PgshiftException(ExitCode.CONFIG, where + "an override needs its reason: " + DIRECTIVE + " " + rule.id()
                    + " reason=\"why this is safe here\" (it goes to the report and the history)");
        }
        return new String[] {rule.id(), rest.group("reason").strip(), String.valueOf(line)};
    }
}
