package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The submit/ scripts: bash accepts them, and cluster-submit's command lines for standalone,
 * YARN and Kubernetes carry the documented defaults and job arguments the CLI accepts.
 * (StandaloneClusterIT runs them against a real cluster.)
 */
class SubmitScriptsTest {
  private static final List<String> SCRIPTS =
      List.of("submit/bottleneck", "submit/cluster-submit", "submit/lib/spark.sh",
          "submit/standalone/start-cluster.sh", "submit/standalone/stop-cluster.sh",
          "submit/dev/test", "submit/dev/install-test-deps.sh", ".ci/run");

  /** The --conf key=value pairs of a printed spark-submit command (one argument a line). */
  static Map<String, String> confs(List<String> args) {
    Map<String, String> confs = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.size(); i++) {
      if (args.get(i).equals("--conf")) {
        String kv = args.get(i + 1);
        confs.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
      }
    }
    return confs;
  }

  @Test
  void scriptsParseWithBash() throws Exception {
    for (String script : SCRIPTS) {
      Processes.Result r = Processes.run(Map.of(), List.of("bash", "-n", script));
      assertThat(r.exitCode()).as(script + ": " + r).isZero();
    }
  }

  @Test
  void everyTargetGetsTheTunedDefaultsAndValidJobArguments() throws Exception {
    Map<String, Map<String, String>> targets = new LinkedHashMap<>();
    targets.put("standalone", Map.of("BOTTLENECK_MASTER", "spark://spark-master:7077"));
    targets.put("yarn", Map.of());
    targets.put("k8s", Map.of("BOTTLENECK_K8S_API", "https://k8s.example:6443", "BOTTLENECK_K8S_IMAGE", "registry.example/bottleneck:0.1.0"));
    for (Map.Entry<String, Map<String, String>> target : targets.entrySet()) {
      List<String> args = printed(target.getKey(), target.getValue(), "pipeline", "--input", "/data/labeled", "--epochs", "2");
      String name = target.getKey();
      assertThat(args.get(0)).isEqualTo("spark-submit");
      assertThat(valueOf(args, "--class")).isEqualTo("io.bottleneck.job.Main");
      assertThat(valueOf(args, "--deploy-mode")).isEqualTo(name.equals("standalone") ? "client" : "cluster");
      assertThat(valueOf(args, "--executor-cores")).isEqualTo("2");
      assertThat(valueOf(args, "--executor-memory")).isEqualTo("4g");
      Map<String, String> conf = confs(args);
      assertThat(conf)
          .as(name)
          .containsEntry("spark.executor.memoryOverhead", "2g")
          .containsEntry("spark.executorEnv.OMP_NUM_THREADS", "1")
          .containsEntry("spark.executorEnv.TF_OVERRIDE_GLOBAL_THREADPOOL", "1")
          .containsEntry("spark.executorEnv.TF_ENABLE_ONEDNN_OPTS", "1")
          .containsEntry("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
          .containsEntry("spark.kryo.registrator", "io.bottleneck.io.NdArrayKryoRegistrator")
          .containsEntry("spark.task.maxFailures", "4");
      for (String side : List.of("driver", "executor")) {
        assertThat(conf.get("spark." + side + ".extraJavaOptions"))
            .contains("--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                "-Dorg.bytedeco.javacpp.maxbytes=1g", "-Dorg.bytedeco.javacpp.logger=slf4j");
      }
      assertThat(conf.get("spark.executor.extraJavaOptions")).contains("-Dorg.bytedeco.javacpp.maxphysicalbytes=6144m");

      // the job's arguments follow the jar, and the CLI accepts them
      int jar = args.indexOf(args.stream().filter(a -> a.endsWith(".jar")).findFirst().orElseThrow());
      List<String> job = new ArrayList<>(args.subList(jar + 1, args.size()));
      assertThat(job).containsExactly("pipeline", "--input", "/data/labeled", "--epochs", "2");
      job.add("--dry-run");
      InProcessMain.Outcome dry = InProcessMain.run(job.toArray(String[]::new));
      assertThat(dry.exitCode()).as(dry.stderr()).isZero();
    }
    List<String> k8s = printed("k8s", targets.get("k8s"), "pipeline");
    assertThat(valueOf(k8s, "--master")).isEqualTo("k8s://https://k8s.example:6443");
    assertThat(k8s).contains("local:///opt/bottleneck/bottleneck-job.jar");
    assertThat(confs(k8s))
        .containsEntry("spark.kubernetes.container.image", "registry.example/bottleneck:0.1.0")
        .containsEntry("spark.kubernetes.authenticate.driver.serviceAccountName", "spark");
    assertThat(valueOf(printed("yarn", Map.of(), "pipeline"), "--master")).isEqualTo("yarn");
    assertThat(confs(printed("standalone", targets.get("standalone"), "pipeline")))
        .containsEntry("spark.standalone.submit.waitAppCompletion", "true");
  }

  @Test
  void environmentOverridesTheDefaultsAndExtraOptionsComeLast() throws Exception {
    List<String> args =
        printed("yarn", Map.of("BOTTLENECK_EXECUTOR_MEMORY", "8g", "BOTTLENECK_EXECUTOR_OVERHEAD", "3072m",
                "SPARK_SUBMIT_OPTS_EXTRA", "--conf spark.task.maxFailures=8 --queue batch"), "pipeline");
    assertThat(valueOf(args, "--executor-memory")).isEqualTo("8g");
    Map<String, String> conf = confs(args);
    assertThat(conf.get("spark.executor.extraJavaOptions")).contains("maxphysicalbytes=11264m");
    assertThat(conf).containsEntry("spark.executor.memoryOverhead", "3072m").containsEntry("spark.task.maxFailures", "8");
    assertThat(valueOf(args, "--queue")).isEqualTo("batch");
  }

  /**
   * The test command of the README's "On a fresh machine" block: the line whose comment begins
   * "# the tests", without the comment.
   */
  static String readmeTestCommand() throws Exception {
    List<String> readme = Files.readAllLines(Launcher.ROOT.resolve("README.md"));
    int section = readme.indexOf("## On a fresh machine");
    assertThat(section).as("README.md has the section '## On a fresh machine'").isNotNegative();
    List<String> commands = readme.subList(section, readme.size()).stream()
        .takeWhile(l -> !l.startsWith("## ") || l.equals("## On a fresh machine"))
        .filter(l -> l.matches(".*\\s#\\s*the tests\\b.*"))
        .map(l -> l.substring(0, l.indexOf('#')).trim())
        .toList();
    assertThat(commands).as("the README's test command ('# the tests' comment)").hasSize(1);
    return commands.get(0);
  }

  @Test
  void ciRunsExactlyTheReadmesTestCommand() throws Exception {
    String command = readmeTestCommand();
    assertThat(command).isEqualTo("./submit/dev/test");
    assertThat(Files.isExecutable(Launcher.ROOT.resolve(command))).as(command + " is executable").isTrue();
    List<String> ci = Files.readAllLines(Launcher.ROOT.resolve(".ci/run")).stream()
        .map(String::trim)
        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .toList();
    // .ci/run: the shell options, the checkout root, the environment, then the README's command, last
    assertThat(ci.get(ci.size() - 1)).as(".ci/run " + ci).isEqualTo(command);
    assertThat(ci).noneMatch(l -> l.contains("mvn ") || l.contains("install-test-deps"));
  }

  /**
   * submit/dev/test installs the test dependencies, then runs mvn -B verify with its arguments on
   * loopback; a failed install runs no Maven. Run on a copy with stand-ins for both.
   */
  @Test
  void theTestCommandInstallsTheDependenciesThenVerifies(@TempDir Path tmp) throws Exception {
    Path root = tmp.resolve("checkout");
    Path dev = Files.createDirectories(root.resolve("submit/dev"));
    Files.copy(Launcher.ROOT.resolve("submit/dev/test"), dev.resolve("test"));
    Path log = tmp.resolve("calls.log");
    Path install = dev.resolve("install-test-deps.sh");
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    Path mvn = bin.resolve("mvn");
    Files.writeString(mvn, "#!/usr/bin/env bash\necho \"mvn $* in $PWD with SPARK_LOCAL_IP=$SPARK_LOCAL_IP\" >> " + log + "\n");
    for (Path script : List.of(dev.resolve("test"), mvn)) {
      script.toFile().setExecutable(true);
    }
    Map<String, String> env = Map.of("PATH", bin + ":" + System.getenv("PATH"), "SPARK_LOCAL_IP", "");

    Files.writeString(install, "#!/usr/bin/env bash\necho install-test-deps >> " + log + "\n");
    install.toFile().setExecutable(true);
    Processes.Result ok = Processes.run(env, List.of(dev.resolve("test").toString(), "-Dit.test=PipelineIT", "-q"));
    assertThat(ok.exitCode()).as(ok.toString()).isZero();
    assertThat(Files.readAllLines(log)).containsExactly("install-test-deps",
        "mvn -B verify -Dit.test=PipelineIT -q in " + root.toRealPath() + " with SPARK_LOCAL_IP=127.0.0.1");

    Files.delete(log);
    Files.writeString(install, "#!/usr/bin/env bash\necho install-test-deps >> " + log + "\nexit 1\n");
    Processes.Result failed = Processes.run(env, List.of(dev.resolve("test").toString()));
    assertThat(failed.exitCode()).isEqualTo(1);
    assertThat(Files.readAllLines(log)).containsExactly("install-test-deps");
  }

  @Test
  void missingClusterSettingsAreUsageErrors() throws Exception {
    Map<String, String> print = Map.of("BOTTLENECK_PRINT_COMMAND", "1", "BOTTLENECK_MASTER", "", "BOTTLENECK_K8S_IMAGE", "");
    Processes.Result standalone = Processes.run(print, List.of("submit/cluster-submit", "standalone", "pipeline"));
    assertThat(standalone.exitCode()).isEqualTo(2);
    assertThat(standalone.stderr()).contains("set BOTTLENECK_MASTER");
    Map<String, String> k8sEnv = new HashMap<>(print);
    k8sEnv.put("BOTTLENECK_K8S_API", "https://k8s.example:6443");
    Processes.Result k8s = Processes.run(k8sEnv, List.of("submit/cluster-submit", "k8s", "pipeline"));
    assertThat(k8s.exitCode()).isEqualTo(2);
    assertThat(k8s.stderr()).contains("set BOTTLENECK_K8S_IMAGE");
    Processes.Result unknown = Processes.run(print, List.of("submit/cluster-submit", "mesos", "pipeline"));
    assertThat(unknown.exitCode()).isEqualTo(2);
  }

  private static List<String> printed(String target, Map<String, String> env, String... job) throws Exception {
    Map<String, String> all = new HashMap<>(env);
    all.put("BOTTLENECK_PRINT_COMMAND", "1");
    List<String> command = new ArrayList<>(List.of("submit/cluster-submit", target));
    command.addAll(List.of(job));
    Processes.Result r = Processes.run(all, command);
    assertThat(r.exitCode()).as(target + ": " + r).isZero();
    return r.stdout().lines().toList();
  }

  private static String valueOf(List<String> args, String option) {
    int i = args.indexOf(option);
    assertThat(i).as(option + " in " + args).isNotNegative();
    return args.get(i + 1);
  }
}
