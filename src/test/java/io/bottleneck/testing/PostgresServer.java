package io.bottleneck.testing;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for tests, from the Debian package's binaries: a fresh cluster
 * (initdb) under {@code dir}, listening on a free loopback port only, password authentication for
 * the user {@link #USER}. initdb and postgres refuse to run as root, so as root they run as the
 * {@code postgres} user ({@code runuser}), owning the data directory. Stopped by {@link #close()}.
 * Without the binaries it fails, naming the script that installs them.
 */
public final class PostgresServer implements AutoCloseable {
  public static final String USER = "bottleneck";
  public static final String DATABASE = "postgres";
  private static final String INSTALL_HINT =
      "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin or on PATH:"
          + " install them with submit/dev/install-test-deps.sh (apt-get install postgresql)";

  private final Path bin;
  private final Path dataDir;
  private final boolean asRoot;
  private final int port;
  private final String password;

  private PostgresServer(Path bin, Path dataDir, boolean asRoot, int port, String password) {
    this.bin = bin;
    this.dataDir = dataDir;
    this.asRoot = asRoot;
    this.port = port;
    this.password = password;
  }

  /** Creates and starts a cluster in {@code dir} (which must not exist yet). */
  public static PostgresServer start(Path cluster, String password) throws IOException, InterruptedException {
    Path bin = findBinaries();
    Path dir = cluster.toAbsolutePath();
    boolean asRoot = "root".equals(System.getProperty("user.name"));
    Files.createDirectories(dir);
    Path dataDir = dir.resolve("data");
    Path socketDir = dir.resolve("socket");
    Files.createDirectories(socketDir);
    Path passwordFile = dir.resolve("password");
    Files.writeString(passwordFile, password + "\n", StandardCharsets.UTF_8);
    if (asRoot) {
      run(List.of("chown", "-R", "postgres", dir.toString()), dir);
      reachable(dir);
    }
    int port = freePort();
    PostgresServer server = new PostgresServer(bin, dataDir, asRoot, port, password);
    server.runPg(dir, "initdb", "-D", dataDir.toString(), "-U", USER, "--pwfile=" + passwordFile,
        "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C");
    Files.delete(passwordFile);
    server.runPg(dir, "pg_ctl", "-D", dataDir.toString(), "-w", "-t", "60", "-l", dir.resolve("server.log").toString(),
        "-o", "-c listen_addresses=127.0.0.1 -p " + port + " -k " + socketDir + " -c fsync=off", "start");
    return server;
  }

  public String url() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE;
  }

  public String password() {
    return password;
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(url(), USER, password);
  }

  /** Stops the server and deletes its cluster (~40 MB each). */
  @Override
  public void close() throws IOException, InterruptedException {
    Path dir = dataDir.getParent();
    runPg(dir, "pg_ctl", "-D", dataDir.toString(), "-w", "-m", "fast", "stop");
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }

  private void runPg(Path dir, String program, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    if (asRoot) {
      command.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    command.add(bin.resolve(program).toString());
    command.addAll(List.of(args));
    run(command, dir);
  }

  private static void run(List<String> command, Path dir) throws IOException, InterruptedException {
    Path log = Files.createTempFile("pg-command", ".log");
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean finished = p.waitFor(120, TimeUnit.SECONDS);
    String output = Files.readString(log);
    Files.delete(log);
    if (!finished) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " did not finish in 120 s:\n" + output);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed with exit " + p.exitValue() + ":\n" + output);
    }
  }

  /** The postgres user must be able to enter every directory above the cluster. */
  private static void reachable(Path dir) throws IOException, InterruptedException {
    for (Path d = dir.toAbsolutePath().getParent(); d != null; d = d.getParent()) {
      File f = d.toFile();
      if (!f.canExecute() || !Files.getPosixFilePermissions(d).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
        throw new IllegalStateException(
            "The postgres user cannot enter " + d + " (no execute permission for others), so it cannot run a cluster under "
                + dir + "; chmod o+x " + d);
      }
    }
  }

  /** The newest /usr/lib/postgresql/N/bin, else the directory of initdb on PATH. */
  static Path findBinaries() throws IOException {
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> versions = Files.list(debian)) {
        Path newest =
            versions.filter(v -> Files.isExecutable(v.resolve("bin/initdb")) && Files.isExecutable(v.resolve("bin/pg_ctl")))
                .max(Comparator.comparingInt(v -> versionNumber(v.getFileName().toString())))
                .orElse(null);
        if (newest != null) {
          return newest.resolve("bin");
        }
      }
    }
    for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path initdb = Path.of(entry, "initdb");
      if (Files.isExecutable(initdb) && Files.isExecutable(Path.of(entry, "pg_ctl"))) {
        return initdb.toRealPath().getParent();
      }
    }
    throw new IllegalStateException(INSTALL_HINT);
  }

  private static int versionNumber(String name) {
    return name.matches("\\d+") ? Integer.parseInt(name) : -1;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
