package dev.vmrunner.kube;

import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A scripted stand-in for the API server on a real socket: records every request and answers as the
 * test says, including the ways a hostile server answers (never, forever, too much).
 */
public final class FakeApiServer implements AutoCloseable {

    /** One request as it arrived. */
    public record Request(
            String method, String path, String contentType, String auth, String body) {}

    /** How the server answers. */
    public enum Mode {
        OK,
        ERROR_500,
        UNAUTHORIZED,
        /** Headers never come. */
        SILENT,
        /** 200 and a body of 64 MiB. */
        HUGE,
        /** 200, then one byte of body every 50 ms, for ever. */
        DRIP
    }

    public final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final CountDownLatch closing = new CountDownLatch(1);
    public volatile Mode mode = Mode.OK;

    public FakeApiServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        server.start();
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** The value of the label vmrunner.dev/state a pod patch sets. */
    public static String stateLabel(Request patch) {
        return JsonParser.parseString(patch.body())
                .getAsJsonObject()
                .getAsJsonObject("metadata")
                .getAsJsonObject("labels")
                .get("vmrunner.dev/state")
                .getAsString();
    }

    public Request next() throws InterruptedException {
        Request r = requests.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("no request came");
        }
        return r;
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        requests.add(
                new Request(
                        exchange.getRequestMethod(),
                        exchange.getRequestURI().getPath(),
                        exchange.getRequestHeaders().getFirst("Content-Type"),
                        exchange.getRequestHeaders().getFirst("Authorization"),
                        body));
        try (exchange) {
            switch (mode) {
                case OK -> answer(exchange, 201, "{\"kind\":\"Event\"}");
                case ERROR_500 -> answer(exchange, 500, "{\"message\":\"etcd\\nis\\tdown\"}");
                case UNAUTHORIZED -> answer(exchange, 401, "{\"message\":\"Unauthorized\"}");
                case SILENT -> closing.await();
                case HUGE -> {
                    exchange.sendResponseHeaders(200, 0);
                    byte[] chunk = new byte[64 * 1024];
                    try (OutputStream out = exchange.getResponseBody()) {
                        for (int i = 0; i < 1024; i++) {
                            out.write(chunk);
                        }
                    }
                }
                case DRIP -> {
                    exchange.sendResponseHeaders(200, 0);
                    OutputStream out = exchange.getResponseBody();
                    while (!closing.await(50, TimeUnit.MILLISECONDS)) {
                        out.write('x');
                        out.flush();
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the client went away: what a hostile server expects
        }
    }

    private static void answer(HttpExchange exchange, int code, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(code, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        pool.shutdownNow();
    }
}
