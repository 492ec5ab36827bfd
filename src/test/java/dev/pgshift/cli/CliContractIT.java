package dev.pgshift.cli;

import io.quarkus.test.junit.main.QuarkusMainIntegrationTest;

/** The same contract against the packaged artifact (the native binary where one was built). */
@QuarkusMainIntegrationTest
class CliContractIT extends CliContractTest {
}
