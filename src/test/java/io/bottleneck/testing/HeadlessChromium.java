package io.bottleneck.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bottleneck.io.Json;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Debian's Chromium, headless, driven over the DevTools protocol: loads a page and reports every
 * network request it made, every console/log entry, and the value of a script run after load.
 * The browser's own background traffic is switched off by flags (this machine has no network).
 * Installed by submit/dev/install-test-deps.sh.
 */
public final class HeadlessChromium implements AutoCloseable {
  public static final String BINARY = "/usr/bin/chromium";
  private static final ObjectMapper JSON = Json.mapper();

  /** What loading a page did. */
  public record PageLoad(List<String> requestUrls, List<String> logEntries, JsonNode scriptResult) {}

  private final Process process;
  private final Path profile;

  private HeadlessChromium(Process process, Path profile) {
    this.process = process;
    this.profile = profile;
  }

  public static HeadlessChromium start() throws IOException {
    if (!new File(BINARY).canExecute()) {
      throw new IllegalStateException(BINARY + " is missing: run submit/dev/install-test-deps.sh (installs Debian's chromium)");
    }
    Path profile = Files.createTempDirectory("chromium-profile");
    Process p = new ProcessBuilder(
            BINARY, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--user-data-dir=" + profile,
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank")
        .redirectErrorStream(true)
        .redirectOutput(profile.resolve("chromium.log").toFile())
        .start();
    return new HeadlessChromium(p, profile);
  }

  /**
   * Opens {@code page} (a file), waits for its load event, then evaluates {@code script} (an
   * expression whose value must be JSON-serialisable) and returns it with the requests and logs.
   */
  public PageLoad load(Path page, String script) throws Exception {
    int port = debuggingPort();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    JsonNode targets = JSON.readTree(http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
        HttpResponse.BodyHandlers.ofString()).body());
    String socketUrl = null;
    for (JsonNode t : targets) {
      if (t.path("type").asText().equals("page")) {
        socketUrl = t.path("webSocketDebuggerUrl").asText();
        break;
      }
    }
    if (socketUrl == null) {
      throw new IllegalStateException("Chromium has no page target: " + targets);
    }
    Session session = new Session();
    WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(socketUrl), session).get(20, TimeUnit.SECONDS);
    session.socket = socket;
    session.call("Network.enable", Map.of());
    session.call("Log.enable", Map.of());
    session.call("Runtime.enable", Map.of());
    session.call("Page.enable", Map.of());
    session.call("Page.navigate", Map.of("url", page.toUri().toString()));
    if (!session.loaded.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("Chromium did not finish loading " + page + " in 60 s");
    }
    JsonNode result = session.call("Runtime.evaluate", Map.of("expression", script, "returnByValue", true));
    JsonNode value = result.path("result").path("value");
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
    return new PageLoad(List.copyOf(session.requests), List.copyOf(session.logs), value);
  }

  private int debuggingPort() throws IOException, InterruptedException {
    Path active = profile.resolve("DevToolsActivePort");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (Files.exists(active)) {
        List<String> lines = Files.readAllLines(active);
        if (!lines.isEmpty() && !lines.get(0).isBlank()) {
          return Integer.parseInt(lines.get(0).trim());
        }
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("Chromium exited with " + process.exitValue() + ": "
            + Files.readString(profile.resolve("chromium.log")));
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("Chromium wrote no DevToolsActivePort in 30 s: " + Files.readString(profile.resolve("chromium.log")));
  }

  @Override
  public void close() throws IOException, InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    try (var files = Files.walk(profile)) {
      files.sorted(Collections.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }

  /** One DevTools connection: numbered calls with their replies, and the events we record. */
  private static final class Session implements WebSocket.Listener {
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<String> requests = Collections.synchronizedList(new ArrayList<>());
    private final List<String> logs = Collections.synchronizedList(new ArrayList<>());
    private final CountDownLatch loaded = new CountDownLatch(1);
    private final StringBuilder partial = new StringBuilder();
    private volatile WebSocket socket;

    JsonNode call(String method, Map<String, Object> params) throws Exception {
      int id = ids.incrementAndGet();
      CompletableFuture<JsonNode> reply = new CompletableFuture<>();
      pending.put(id, reply);
      socket.sendText(JSON.writeValueAsString(Map.of("id", id, "method", method, "params", params)), true).get(10, TimeUnit.SECONDS);
      JsonNode message = reply.get(60, TimeUnit.SECONDS);
      if (message.has("error")) {
        throw new IllegalStateException(method + " failed: " + message.get("error"));
      }
      return message.path("result");
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        String text = partial.toString();
        partial.setLength(0);
        try {
          handle(JSON.readTree(text));
        } catch (IOException e) {
          throw new IllegalStateException("Unreadable DevTools message: " + text.substring(0, Math.min(200, text.length())), e);
        }
      }
      webSocket.request(1);
      return null;
    }

    private void handle(JsonNode message) {
      if (message.has("id")) {
        CompletableFuture<JsonNode> reply = pending.remove(message.get("id").asInt());
        if (reply != null) {
          reply.complete(message);
        }
        return;
      }
      String method = message.path("method").asText();
      JsonNode params = message.path("params");
      switch (method) {
        case "Network.requestWillBeSent" -> requests.add(params.path("request").path("url").asText());
        case "Log.entryAdded" -> logs.add(params.path("entry").path("level").asText() + ": " + params.path("entry").path("text").asText());
        case "Runtime.exceptionThrown" -> logs.add("error: " + params.path("exceptionDetails").toString());
        case "Page.loadEventFired" -> loaded.countDown();
        default -> { }
      }
    }
  }
}
