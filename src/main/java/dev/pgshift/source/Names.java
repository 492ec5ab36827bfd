package dev.pgshift.source;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a pending statement's table name leads, as PostgreSQL will resolve it when the statement runs: through a
 * {@code SET search_path} earlier in the same file (each file starts from the session's path), to a table an earlier
 * pending statement created (new: exempt from the lint), or to an existing table an earlier pending statement renamed
 * or moved to another schema (weighed as the table it is now). Names come out schema-qualified where the catalog knows
 * the path.
 */
final class Names {
    private TableCatalog catalog;
    private List<String> path;
    private final Set<QualifiedName> created = new HashSet<>();
    private final Map<QualifiedName, QualifiedName> moved = new HashMap<>();

    void catalog(TableCatalog catalog) {
        this.catalog = catalog;
    }

    /** A file starts on the session's search_path (pgshift restores it between files). */
    void newFile() {
        path = null;
    }

    private List<String> path() {
        return path != null ? path : catalog.searchPath();
    }

    /** {@code SET [SESSION | LOCAL] search_path {TO | =} ...} or {@code RESET search_path}: the path for the rest of the file. */
    boolean searchPath(SqlStatement s) {
        List<String> w = s.words();
        int at = s.startsWith("SET", "SEARCH_PATH") ? 2 : s.startsWith("SET", "SESSION", "SEARCH_PATH") || s.startsWith("SET", "LOCAL", "SEARCH_PATH") ? 3 : -1;
        if (s.startsWith("RESET", "SEARCH_PATH") || at > 0 && at + 1 < w.size() && w.get(at + 1).equals("DEFAULT")) {
            path = null;
            return true;
        }
        if (at < 0 || at >= w.size() || !(w.get(at).equals("TO") || w.get(at).equals("="))) {
            return false;
        }
        List<String> out = new ArrayList<>();
        for (int i = at + 1; i < w.size(); i++) {
            String x = w.get(i);
            if (x.equals(",")) {
                continue;
            }
            String name = x.startsWith("'") ? x.substring(1, x.length() - 1) : QualifiedName.fold(s.source(i, i));
            if (!name.equals("$user")) {
                out.add(QualifiedName.truncate(name));
            }
        }
        path = out;
        return true;
    }

    /** The table {@code written} leads to, schema-qualified where the path is known (as the statement will resolve it). */
    QualifiedName resolve(QualifiedName written) {
        if (written == null) {
            return null;
        }
        QualifiedName t = written.truncated();
        if (t.schema() != null) {
            return t;
        }
        List<String> schemas = path();
        for (String schema : schemas) {
            QualifiedName q = new QualifiedName(schema, t.name());
            if (created.contains(q) || moved.containsKey(q) || catalog.exists(q)) {
                return q;
            }
        }
        return schemas.isEmpty() ? t : new QualifiedName(schemas.get(0), t.name());
    }

    /** A CREATE TABLE: the table is new, unless IF NOT EXISTS finds it already there (then nothing is created). */
    void created(QualifiedName written, boolean ifNotExists) {
        QualifiedName q = resolveNew(written);
        if (!(ifNotExists && (moved.containsKey(q) || catalog.exists(q)))) {
            created.add(q);
        }
    }

    private QualifiedName resolveNew(QualifiedName written) {
        QualifiedName t = written.truncated();
        List<String> schemas = path();
        return t.schema() != null || schemas.isEmpty() ? t : new QualifiedName(schemas.get(0), t.name());
    }

    /** Whether an earlier pending statement created the table (resolved). */
    boolean isNew(QualifiedName table) {
        return created.contains(table);
    }

    /** The existing table that the resolved name {@code table} is, after earlier pending renames and moves. */
    QualifiedName live(QualifiedName table) {
        return table == null ? null : moved.getOrDefault(table, table);
    }

    /** {@code ALTER TABLE from RENAME TO name} or {@code SET SCHEMA schema}: the table (new or existing) goes by its new name. */
    void renamed(QualifiedName from, QualifiedName to) {
        QualifiedName t = to.truncated();
        if (created.remove(from)) {
            created.add(t);
        } else {
            moved.put(t, live(from));
        }
    }
}
