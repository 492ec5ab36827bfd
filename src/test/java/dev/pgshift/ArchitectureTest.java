package dev.pgshift;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The shape docs/ARCHITECTURE.md draws, kept: packages depend on each other one way only, Flyway stays behind
 * {@code migrate}, a type is public only when another package needs it, and no source file grows back into several jobs.
 */
class ArchitectureTest {
    private static final JavaClasses MAIN = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.pgshift");
    /** A file past this holds more than one job: split it along its seams before it grows (ARCHITECTURE.md). */
    private static final int MAX_LINES = 360;

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

    @Test
    void fewerThanHalfTheTopLevelTypesArePublic() {
        List<JavaClass> top = MAIN.stream().filter(JavaClass::isTopLevelClass).toList();
        List<String> pub = top.stream().filter(c -> c.getModifiers().contains(JavaModifier.PUBLIC)).map(JavaClass::getName).sorted().toList();
        assertTrue(pub.size() * 2 < top.size(), pub.size() + " of " + top.size() + " top-level types are public: make package-private "
                + "what no other package uses: " + pub);
    }

    @Test
    void noSourceFileHoldsSeveralJobs() throws IOException {
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            List<String> big = files.filter(p -> p.toString().endsWith(".java")).filter(p -> lines(p) > MAX_LINES)
                    .map(p -> p + " (" + lines(p) + " lines)").sorted().toList();
            assertTrue(big.isEmpty(), "over " + MAX_LINES + " lines: " + big);
        }
    }

    private static long lines(Path p) {
        try (Stream<String> l = Files.lines(p)) {
            return l.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
