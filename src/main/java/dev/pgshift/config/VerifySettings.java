package dev.pgshift.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * What verify checks beyond the fixed checks.
 *
 * @param scriptDirs          directories of verify scripts (SQL queries that must return no rows)
 * @param bundledScripts      include the verify scripts bundled with the migrations
 * @param allowInvalidIndexes INVALID indexes not made by the migrations that are expected (no warning)
 * @param allowNotValid       constraints deliberately left NOT VALID
 */
public record VerifySettings(List<Path> scriptDirs, boolean bundledScripts, Set<String> allowInvalidIndexes, Set<String> allowNotValid) {
}
