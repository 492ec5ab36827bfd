package dev.pgshift.db;

/** SQL identifiers that come from settings or the catalog, quoted once, the same way everywhere. */
public final class Identifiers {

    private Identifiers() {
    }

    /** {@code name} as a quoted identifier: its case and any character kept ({@code MySchema} stays {@code MySchema}). */
    public static String quote(String name) {
        return dev.pgshift.source.QualifiedName.quote(name);
    }
}
