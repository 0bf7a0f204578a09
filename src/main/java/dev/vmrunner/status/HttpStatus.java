package dev.vmrunner.status;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The opt-in HTTP endpoints for orchestrators and Prometheus, on the JDK's own server (no library:
 * it adds no jar; its memory is measured by HttpIT):
 *
 * <ul>
 *   <li>{@code GET /healthz}: 200 when the supervisor's loop answers within a second, else 503.
 *   <li>{@code GET /readyz}: 200 while the VM runs (vCPUs started), else 503.
 *   <li>{@code GET /status}: the status JSON, as {@code vmrunner status -o json} prints it.
 *   <li>{@code GET /metrics}: {@link Metrics}.
 * </ul>
 *
 * Other methods get 405, other paths 404. Two threads serve; request bodies are never read (the
 * JDK's server drains at most a small amount of an unread body, then drops the connection). Only
 * {@code /healthz} touches the loop, with a bounded wait; the rest read the published snapshot.
 */
public final class HttpStatus implements AutoCloseable {

    private static final int THREADS = 2;
    private static final int BACKLOG = 8;

    private final HttpServer server;
    private final ExecutorService executor;

    private HttpStatus(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Listens on {@code address} and serves on daemon threads.
     *
     * @param loopAnswers true when the supervisor's loop handled a ping within a second
     * @param counters the QMP and reconciliation counters, read per request
     */
    public static HttpStatus start(
            InetSocketAddress address,
            Supplier<Status> status,
            BooleanSupplier loopAnswers,
            Supplier<Metrics.Counters> counters)
            throws IOException {
        boundRequestTime();
        HttpServer server = HttpServer.create(address, BACKLOG);
        ExecutorService executor =
                Executors.newFixedThreadPool(
                        THREADS,
                        r -> {
                            Thread t = new Thread(r, "http");
                            t.setDaemon(true);
                            return t;
                        });
        server.setExecutor(executor);
        server.createContext(
                "/",
                exchange -> {
                    try (exchange) {
                        serve(exchange, status, loopAnswers, counters);
                    }
                });
        server.start();
        return new HttpStatus(server, executor);
    }

    /** The address it listens on (the port chosen when 0 was asked for). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /**
     * A client that sends its request slowly or never reads the answer holds one of the few
     * threads; the JDK's server drops it after these many seconds (its default is never).
     */
    private static void boundRequestTime() {
        for (String key :
                new String[] {"sun.net.httpserver.maxReqTime", "sun.net.httpserver.maxRspTime"}) {
            if (System.getProperty(key) == null) {
                System.setProperty(key, "10");
            }
        }
    }

    private static void serve(
            HttpExchange exchange,
            Supplier<Status> status,
            BooleanSupplier loopAnswers,
            Supplier<Metrics.Counters> counters)
            throws IOException {
        String path = exchange.getRequestURI().getPath();
        boolean known =
                switch (path) {
                    case "/healthz", "/readyz", "/status", "/metrics" -> true;
                    default -> false;
                };
        if (!known) {
            send(exchange, 404, "text/plain; charset=utf-8", "not found\n");
            return;
        }
        if (!"GET".equals(exchange.getRequestMethod())) {
            exchange.getResponseHeaders().set("Allow", "GET");
            send(exchange, 405, "text/plain; charset=utf-8", "only GET\n");
            return;
        }
        Status s = status.get();
        switch (path) {
            case "/healthz" -> {
                boolean ok = loopAnswers.getAsBoolean();
                send(
                        exchange,
                        ok ? 200 : 503,
                        "text/plain; charset=utf-8",
                        ok ? "ok\n" : "stuck\n");
            }
            case "/readyz" -> {
                boolean ready = s != null && s.ready();
                String state = s == null ? "starting" : s.state();
                send(exchange, ready ? 200 : 503, "text/plain; charset=utf-8", state + "\n");
            }
            case "/status" ->
                    send(exchange, 200, "application/json", StatusJson.of(s).toString() + "\n");
            default ->
                    send(
                            exchange,
                            200,
                            Metrics.CONTENT_TYPE,
                            Metrics.render(s, counters.get(), Instant.now()));
        }
    }

    private static void send(HttpExchange exchange, int code, String type, String body)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
