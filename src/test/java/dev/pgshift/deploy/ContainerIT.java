package dev.pgshift.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgshift.testing.K8sTools;
import dev.pgshift.testing.PgServer;
import dev.pgshift.testing.Podman;
import dev.pgshift.testing.TestCerts;
import dev.pgshift.testing.TestDb;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The image built from the project's own src/main/docker/Dockerfile.jvm (around the packaged target/quarkus-app), and
 * the chart's own pods — the hook Job's and the post-phase Job's pod templates as {@code helm template} renders them
 * with the ci/ values — run with podman against a real PostgreSQL on the host. {@link PodmanPod} derives podman's
 * arguments from the parsed pod spec and says what podman cannot emulate and how that is reproduced (Secret volumes
 * above all). The image's base is a debootstrap'd Debian sid with OpenJDK 17 and Debian's postgresql-client-18, built
 * by .ci/container-tools.sh, since no image registry is reachable here; the shipped image differs only in its build
 * arguments (eclipse-temurin base, PGDG's client).
 */
class ContainerIT {
    private static final String IMAGE = "localhost/pgshift-test:jvm";
    private static final Path CHART = Path.of("helm/pgshift");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Podman podman;

    @BeforeAll
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    static void buildTheImage() {
        if (!Files.exists(Path.of("target/quarkus-app/quarkus-run.jar"))) {
            throw new IllegalStateException("target/quarkus-app missing: run ContainerIT with ./mvnw verify, which packages pgshift first");
        }
        podman = Podman.get();
        podman.ok("build", "--network", "host", "-f", "src/main/docker/Dockerfile.jvm", "--build-arg", "BASE_IMAGE=" + podman.baseImage(),
                "--build-arg", "PG_APT=base", "-t", IMAGE, ".");
        podman.exec("image", "prune", "-f"); // the previous build's application layers, untagged by this one
    }

    @Test
    void theImageRunsAsNonRootWithPgDump18AndNoLocale() throws Exception {
        JsonNode config = JSON.readTree(podman.ok("image", "inspect", IMAGE)).get(0).path("Config");
        assertEquals("10001:10001", config.path("User").asText());
        for (JsonNode env : config.path("Env")) {
            assertFalse(env.asText().startsWith("LANG=") || env.asText().startsWith("LC_"), "no locale in the image: " + env);
        }
        String version = podman.ok("run", "--rm", "--pull", "never", "--entrypoint", "pg_dump", IMAGE, "--version");
        assertTrue(version.contains("(PostgreSQL) 18."), "the newest client major: " + version);
        long size = JSON.readTree(podman.ok("image", "inspect", IMAGE)).get(0).path("Size").asLong();
        long started = System.nanoTime();
        String help = podman.ok("run", "--rm", "--pull", "never", "--read-only", "--cap-drop", "ALL", IMAGE, "--version");
        double seconds = (System.nanoTime() - started) / 1e9;
        assertTrue(help.contains("0.1.0"), help);
        System.out.printf("ContainerIT: image %s is %d MB; podman run --version took %.2f s%n", IMAGE, size / 1_000_000, seconds);
    }

    @Test
    void theHookJobsPodMigratesBacksUpAndReports() throws Exception {
        TestDb db = PgServer.get().newDatabase("pod");
        Path backups = Files.createTempDirectory("pgshift-claim");
        PodSpec pod = hookPod(render("default-values.yaml", db, Map.of()));
        PodmanPod.Inputs inputs = inputs(db, db.password(), backups, Map.of());

        PodResult r = runPod(pod, inputs, null);

        assertEquals(0, r.exit(), r.toString());
        assertEquals(5, db.appliedVersions().size(), "the bundled migrations: " + db.appliedVersions());
        // Output in a container without a locale: UTF-8, not "?".
        assertTrue(r.stdout().matches("(?s).*sha256 [0-9a-f]{12}\u2026\\).*"), r.stdout());
        assertFalse(r.stdout().contains("?"), r.stdout());
        JsonNode term = JSON.readTree(Files.readString(r.run().terminationLog()));
        assertEquals("SUCCEEDED", term.path("outcome").asText(), term.toString());
        assertEquals(0, term.path("exitCode").asInt());
        assertEquals(5, term.path("applied").asInt());
        assertTrue(Files.size(r.run().terminationLog()) <= 4096);
        assertTrue(Files.exists(r.run().volumes().get("tmp").resolve("pgshift-report.json")), "the JSON report on the /tmp emptyDir");

        List<Path> dumps = files(backups, ".dump");
        assertEquals(1, dumps.size(), dumps.toString());
        Path dump = dumps.get(0);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dump)));
        assertEquals(10001, Files.getAttribute(dump, "unix:uid", LinkOption.NOFOLLOW_LINKS), "written by the pod's runAsUser");
        assertEquals(10001, Files.getAttribute(dump, "unix:gid", LinkOption.NOFOLLOW_LINKS), "group: the pod's fsGroup");
        String manifest = Files.readString(Path.of(dump + ".manifest.json"));
        assertTrue(manifest.contains("pg_dump (PostgreSQL) 18.") || manifest.contains("\"18."), manifest);
        assertEquals(List.of(), r.writtenOutsideVolumes(), "a read-only root: nothing written outside the mounted volumes");

        // The next pod: nothing pending, no backup, and the earlier backup still readable there (the retention reads it).
        PodResult again = runPod(pod, inputs(db, db.password(), backups, Map.of()), null);
        assertEquals(0, again.exit(), again.toString());
        assertTrue(again.stdout().contains("applied   none"), again.stdout());
        assertEquals(dumps, files(backups, ".dump"));
    }

    @Test
    void theHookJobAndThePostPhaseJobRunFromTheChartsFiles() throws Exception {
        TestDb db = PgServer.get().newDatabase("post");
        try (var c = PgServer.get().admin("postgres"); var st = c.createStatement()) {
            st.execute("alter role " + db.user() + " createdb"); // run.rehearse and backup.verifyRestore restore into scratch databases
        }
        Map<String, String> sets = new HashMap<>(Map.of("database.sslMode", "require"));
        if (Integer.parseInt(db.scalar("show server_version_num")) < 170000) {
            // Known and open: pg_restore 17+ sends "SET transaction_timeout = 0", which servers before 17 refuse, so the
            // image's pg_restore 18 cannot restore into them (the scenario's rehearsal and verify-restore exit 4 there).
            sets.putAll(Map.of("run.rehearse", "false", "backup.verifyRestore", "false"));
        }
        List<HasMetadata> objects = render("post-job-values.yaml", db, sets);
        Path backups = Files.createTempDirectory("pgshift-claim");

        PodResult pre = runPod(hookPod(objects), inputs(db, db.password(), backups, Map.of()), objects);
        assertEquals(0, pre.exit(), pre.toString());
        // The chart's example build is followed by a transactional migration, so it is not trailing: phase pre runs it.
        assertTrue(db.appliedVersions().containsAll(List.of("20240120120000.1", "20240121090000")), db.appliedVersions().toString());

        Job post = objects.stream().filter(o -> o instanceof Job && o.getMetadata().getName().startsWith("rel-pgshift-post-")).map(Job.class::cast)
                .findFirst().orElseThrow();
        PodResult built = runPod(post.getSpec().getTemplate().getSpec(), inputs(db, db.password(), backups, Map.of()), objects);
        assertEquals(0, built.exit(), built.toString());
        assertTrue(built.stdout().contains("applied   none"), "nothing left for the post phase: " + built.stdout());
        // It mounted the release's ConfigMaps (not the hook's copies): the chart's verify script ran from them.
        assertTrue(Files.readString(built.run().volumes().get("tmp").resolve("pgshift-report.json")).contains("characters_have_names"),
                "the chart's verify script in the report");
        assertEquals("true", db.scalar("select indisvalid::text from pg_index where indexrelid = 'idx_characters_created_at'::regclass"));
        assertEquals(List.of(), built.writtenOutsideVolumes());
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void podmanStopStopsTheRunWithExit75AndTheNextPodSucceeds() throws Exception {
        TestDb db = PgServer.get().newDatabase("podstop");
        Map<String, String> slow = Map.of("2030-01-01_000000_wait_for_sigterm.sql",
                "DO $$ BEGIN IF to_regclass('public.pgshift_it_go') IS NULL THEN PERFORM pg_sleep(300); END IF; END $$;\n"
                        + "CREATE TABLE pgshift_it_slow (id int);\n");
        List<HasMetadata> objects = render("default-values.yaml", db, Map.of("migrations.existingConfigMap", "slow", "migrations.bundled", "true"));
        Path backups = Files.createTempDirectory("pgshift-claim");

        String[] stopOutput = new String[1];
        PodResult stopped = runPod(hookPod(objects), inputs(db, db.password(), backups, Map.of("slow", slow)), objects, name -> {
            db.awaitActive("pg_sleep(300)");
            stopOutput[0] = podman.ok("stop", "-t", "30", name); // SIGTERM, then SIGKILL after 30 s, as the kubelet's grace period
        });

        assertEquals(75, stopped.exit(), stopped + "\n" + stopOutput[0]);
        assertTrue(stopped.stdout().contains("STOPPED"), stopped.stdout());
        assertEquals(75, JSON.readTree(Files.readString(stopped.run().terminationLog())).path("exitCode").asInt());
        assertEquals(5, db.appliedVersions().size(), "the bundled ones, not the stopped one: " + db.appliedVersions());
        assertEquals("0", db.scalar("select count(*) from pg_tables where tablename = 'pgshift_it_slow'"), "rolled back");
        assertEquals("0", db.scalar("select count(*) from pg_locks where locktype = 'advisory'"), "run lock released");
        assertEquals("0", db.scalar("select count(*) from flyway_schema_history where not success"));

        db.execute("create table pgshift_it_go (id int)");
        PodResult next = runPod(hookPod(objects), inputs(db, db.password(), backups, Map.of("slow", slow)), objects, null);
        assertEquals(0, next.exit(), next.toString());
        assertEquals(6, db.appliedVersions().size(), db.appliedVersions().toString());
    }

    @Test
    void aWrongPasswordExits3WithoutShowingIt() throws Exception {
        TestDb db = PgServer.get().newDatabase("podpw");
        String wrong = "wrong-" + UUID.randomUUID();
        PodResult r = runPod(hookPod(render("default-values.yaml", db, Map.of())),
                inputs(db, wrong, Files.createTempDirectory("pgshift-claim"), Map.of()), null);
        assertEquals(3, r.exit(), r.toString());
        assertEquals(3, JSON.readTree(Files.readString(r.run().terminationLog())).path("exitCode").asInt());
        assertFalse(r.toString().contains(wrong), "the password never shows");
        assertEquals(List.of(), db.appliedVersions());
    }

    @Test
    void aDatabaseThatComesUpLateIsWaitedFor() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        // The superuser of a fresh server (trusted on 127.0.0.1), its database "postgres"; TLS verified with the test CA.
        TestDb late = new TestDb(null, "postgres", "postgres", "unused");
        List<String> sets = new ArrayList<>(List.of("--set", "database.port=" + port));
        List<HasMetadata> objects = renderWith("default-values.yaml", late, sets);
        PgServer[] server = new PgServer[1];
        try {
            PodResult r = runPod(hookPod(objects), inputs(late, "unused", Files.createTempDirectory("pgshift-claim"), Map.of()), objects, name -> {
                Thread.sleep(5000);
                server[0] = PgServer.start(port, null);
            });
            assertEquals(0, r.exit(), r.toString());
            assertTrue(r.stderr().contains("waiting for database"), r.stderr());
        } finally {
            if (server[0] != null) {
                server[0].stop();
            }
        }
    }

    @Test
    void aServerErrorIsPrintedInUtf8WithoutALocale() throws Exception {
        TestDb db = PgServer.get().newDatabase("podutf8");
        Map<String, String> failing = Map.of("2030-01-02_000000_fail.sql", "DO $$ BEGIN RAISE EXCEPTION 'Gr\u00f6\u00dfe ung\u00fcltig \u2192 caf\u00e9'; END $$;\n");
        List<HasMetadata> objects = render("default-values.yaml", db, Map.of("migrations.existingConfigMap", "failing", "backup.mode", "never"));
        PodResult r = runPod(hookPod(objects), inputs(db, db.password(), Files.createTempDirectory("pgshift-claim"), Map.of("failing", failing)),
                objects, null);
        assertEquals(5, r.exit(), r.toString());
        String message = "Gr\u00f6\u00dfe ung\u00fcltig \u2192 caf\u00e9";
        assertTrue(r.stdout().contains(message), "the summary: " + r.stdout());
        assertTrue(r.stderr().contains(message), "the log: " + r.stderr());
        assertTrue(Files.readString(r.run().terminationLog(), StandardCharsets.UTF_8).contains(message));
    }

    /**
     * The chart's fleet mode: two pods of its Indexed Job (JOB_COMPLETION_INDEX set by hand, as Kubernetes sets it) run one
     * release of four tenant databases together, the second waiting for the first's canary; tenant passwords from the
     * Secret the chart mounts.
     */
    @Test
    void twoPodsOfTheFleetsIndexedJobRunOneReleaseTogether() throws Exception {
        PgServer server = PgServer.get();
        TestDb control = server.newDatabase("fleetpod");
        control.execute("create table tenants (name text primary key, url text not null)");
        List<String> databases = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String database = "Fleet_Pod_" + i + "_" + UUID.randomUUID().toString().substring(0, 6);
            try (var c = server.admin("postgres"); var st = c.createStatement()) {
                st.execute("create database \"" + database + "\" owner " + control.user());
            }
            databases.add(database);
            control.execute("insert into tenants values ('shop-" + i + "', 'postgresql://" + control.user() + "@localhost:" + server.port() + "/"
                    + database + "')");
        }
        Map<String, String> fleet = Map.of("fleet.enabled", "true", "fleet.shards", "2", "fleet.waves", "1\\,rest",
                "fleet.tenantsSql", "select name\\, url from tenants order by name", "fleet.tenantPasswordsSecret", "tenant-pw");
        Path backups = Files.createTempDirectory("pgshift-claim");
        List<java.util.concurrent.CompletableFuture<PodResult>> pods = new ArrayList<>();
        for (int index = 0; index < 2; index++) {
            List<HasMetadata> objects = render("default-values.yaml", control, fleet);
            Job job = objects.stream().filter(o -> o instanceof Job).map(Job.class::cast).findFirst().orElseThrow();
            PodSpec pod = job.getSpec().getTemplate().getSpec();
            pod.getContainers().get(0).getEnv().add(new io.fabric8.kubernetes.api.model.EnvVar("JOB_COMPLETION_INDEX", String.valueOf(index), null));
            PodmanPod.Inputs given = inputs(control, control.password(), backups, Map.of());
            Map<String, Map<String, byte[]>> secrets = new HashMap<>(given.secrets());
            secrets.put("tenant-pw", Map.of("_default", (control.password() + "\n").getBytes(StandardCharsets.UTF_8)));
            PodmanPod.Inputs inputs = new PodmanPod.Inputs(secrets, given.configMaps(), given.claims());
            pods.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return runPod(pod, inputs, objects, null);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (int index = 0; index < 2; index++) {
            PodResult r = pods.get(index).get(4, TimeUnit.MINUTES);
            assertEquals(0, r.exit(), r.toString());
            JsonNode term = JSON.readTree(Files.readString(r.run().terminationLog()));
            assertEquals(0, term.path("exitCode").asInt(), term.toString());
            assertEquals(2, term.path("counts").path("succeeded").asInt(), term.toString());
            assertTrue(Files.size(r.run().terminationLog()) <= 4096);
            assertEquals(List.of(), r.writtenOutsideVolumes(), "a read-only root");
        }
        List<List<String>> rows = control.query("select tenant, status, attempt::text, shard::text from pgshift.fleet_tenant order by position");
        assertEquals(List.of(List.of("shop-0", "succeeded", "1", "0"), List.of("shop-1", "succeeded", "1", "1"), List.of("shop-2", "succeeded", "1", "0"),
                List.of("shop-3", "succeeded", "1", "1")), rows);
        for (String database : databases) {
            TestDb tenant = new TestDb(server, database, control.user(), control.password());
            assertEquals(5, tenant.appliedVersions().size(), database + ": the image's bundled migrations");
        }
    }

    // --- rendering the chart and running its pods

    private static List<HasMetadata> render(String values, TestDb db, Map<String, String> more) throws Exception {
        List<String> sets = new ArrayList<>(List.of("--set", "database.port=" + db.server().port()));
        more.forEach((k, v) -> sets.addAll(List.of("--set", k + "=" + v)));
        return renderWith(values, db, sets);
    }

    /** helm template with a ci/ scenario; only where the database and the image are differs (a flag each). */
    private static List<HasMetadata> renderWith(String values, TestDb db, List<String> sets) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(K8sTools.helm().toString(), "template", "rel", CHART.toString(), "-f",
                CHART.resolve("ci").resolve(values).toString(), "--set", "image.repository=localhost/pgshift-test", "--set", "image.tag=jvm",
                "--set", "image.digest=", "--set", "image.pullPolicy=Never", "--set", "database.host=localhost", "--set", "database.name=" + db.name(),
                "--set", "database.user=" + db.user()));
        cmd.addAll(sets);
        K8sTools.Result r = K8sTools.exec(Path.of("."), cmd.toArray(String[]::new));
        assertEquals(0, r.code(), r.output());
        return StrictModel.parse(r.output());
    }

    private static PodSpec hookPod(List<HasMetadata> objects) {
        return objects.stream().filter(o -> o instanceof Job && o.getMetadata().getName().equals("rel-pgshift-migrate")).map(Job.class::cast)
                .findFirst().orElseThrow().getSpec().getTemplate().getSpec();
    }

    /**
     * The objects made outside the chart (ci/ values name an existing Secret characters-db with the password and, in one
     * scenario, the user, the CA Secret characters-db-ca, the claim pgshift-backups) and extra ConfigMaps.
     */
    private static PodmanPod.Inputs inputs(TestDb db, String password, Path claim, Map<String, Map<String, String>> configMaps) throws IOException {
        Map<String, Map<String, byte[]>> secrets = new HashMap<>();
        secrets.put("characters-db", Map.of("password", (password + "\n").getBytes(StandardCharsets.UTF_8),
                "username", db.user().getBytes(StandardCharsets.UTF_8)));
        secrets.put("characters-db-ca", Map.of("ca.crt", Files.readAllBytes(TestCerts.get().caCert())));
        return new PodmanPod.Inputs(secrets, new HashMap<>(configMaps), Map.of("pgshift-backups", claim));
    }

    interface WhileRunning {
        void accept(String containerName) throws Exception;
    }

    private static PodResult runPod(PodSpec pod, PodmanPod.Inputs inputs, List<HasMetadata> chartObjects) throws Exception {
        return runPod(pod, inputs, chartObjects, null);
    }

    /** Runs the pod to its end (the chart's own Secrets and ConfigMaps join the inputs), then lists what it wrote. */
    private static PodResult runPod(PodSpec pod, PodmanPod.Inputs given, List<HasMetadata> chartObjects, WhileRunning whileRunning) throws Exception {
        Map<String, Map<String, byte[]>> secrets = new HashMap<>(given.secrets());
        Map<String, Map<String, String>> configMaps = new HashMap<>(given.configMaps());
        for (HasMetadata o : chartObjects == null ? List.<HasMetadata>of() : chartObjects) {
            if (o instanceof Secret s) {
                Map<String, byte[]> data = new LinkedHashMap<>();
                s.getData().forEach((k, v) -> data.put(k, Base64.getDecoder().decode(v)));
                secrets.put(s.getMetadata().getName(), data);
            } else if (o instanceof ConfigMap cm) {
                configMaps.put(cm.getMetadata().getName(), cm.getData());
            }
        }
        String name = "pgshift-it-" + UUID.randomUUID().toString().substring(0, 8);
        Path work = Files.createTempDirectory("pgshift-pod");
        PodmanPod.Run run = PodmanPod.of(pod, name, new PodmanPod.Inputs(secrets, configMaps, given.claims()), work);
        Path out = work.resolve("stdout");
        Path err = work.resolve("stderr");
        Process p = podman.command(run.args()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (whileRunning != null) {
                whileRunning.accept(name);
            }
            if (!p.waitFor(3, TimeUnit.MINUTES)) {
                throw new AssertionError("the pod did not finish in 3 minutes:\n" + Files.readString(err));
            }
            K8sTools.Result diff = podman.exec("diff", name);
            if (diff.code() != 0) {
                throw new AssertionError("the pod did not run (podman diff: " + diff.output().trim() + "):\n" + Files.readString(err));
            }
            return new PodResult(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8),
                    diff.output(), run, String.join(" ", run.args()));
        } finally {
            podman.exec("rm", "-f", "-t", "0", name);
        }
    }

    record PodResult(int exit, String stdout, String stderr, String diff, PodmanPod.Run run, String command) {
        /**
         * Paths podman diff reports as added or changed in the container's own filesystem, less the mount points (and
         * their parents) and the files podman itself puts there, as the kubelet does: /etc/hosts, /etc/hostname,
         * /etc/resolv.conf, /run/.containerenv. /var/run is /run in Debian.
         */
        List<String> writtenOutsideVolumes() {
            List<String> mountPoints = new ArrayList<>(List.of("/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv"));
            for (int i = 0; i < run.args().size() - 1; i++) {
                if (run.args().get(i).equals("-v")) {
                    mountPoints.add(run.args().get(i + 1).split(":")[1].replaceFirst("^/var/run/", "/run/"));
                }
            }
            return diff.lines().map(String::trim).filter(l -> !l.isEmpty()).map(l -> l.substring(2))
                    .filter(path -> mountPoints.stream().noneMatch(m -> m.equals(path) || m.startsWith(path + "/")))
                    .toList();
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- podman " + command + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    private static List<Path> files(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }
}
