package dev.vmrunner.kube;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The few REST calls the runner makes, with the JDK's HTTP client and the pod's ServiceAccount
 * token: no Kubernetes client library (its classes would cost start time and memory for three
 * calls). The API server is untrusted: every call has a deadline for the whole exchange, and at
 * most {@link #MAX_BODY} bytes of a reply are read. One caller thread at a time (the reporter's).
 */
final class ApiClient {

    /** Of a reply only the start is kept, for a failure's message. */
    static final int MAX_BODY = 1024;

    /** The longest token file read; a bound service account token is about 1 KiB. */
    private static final int MAX_TOKEN = 16 * 1024;

    /** A rotated token is read again at least this often (the kubelet rotates it hourly). */
    private static final long TOKEN_REREAD_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final URI base;
    private final Path tokenFile;
    private final Duration deadline;
    private final LongSupplier nanoTime;
    private final HttpClient http;
    private String token;
    private long tokenReadAt;

    /** The answer to one call: the HTTP status and the start of the body. */
    record Reply(int status, String body) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /**
     * @param base the API server, e.g. {@code https://10.96.0.1:443}
     * @param tokenFile the bearer token, read again when it may have rotated; null for none
     * @param caFile the certificates to trust for https, null for the JDK's
     * @param deadline how long one call may take in all (connect, send, headers, body)
     */
    ApiClient(URI base, Path tokenFile, Path caFile, Duration deadline, LongSupplier nanoTime)
            throws IOException, GeneralSecurityException {
        this.base = base;
        this.tokenFile = tokenFile;
        this.deadline = deadline;
        this.nanoTime = nanoTime;
        HttpClient.Builder builder =
                HttpClient.newBuilder()
                        .connectTimeout(deadline)
                        .followRedirects(HttpClient.Redirect.NEVER)
                        // The reporter's thread waits for each call; no pool of threads besides.
                        .executor(Runnable::run);
        if (caFile != null && "https".equals(base.getScheme())) {
            builder.sslContext(trusting(caFile));
        }
        this.http = builder.build();
    }

    /** POSTs {@code json} to {@code path}. */
    Reply post(String path, String json) throws IOException, InterruptedException {
        return call(
                request(path)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** PATCHes {@code path} with a JSON merge patch (RFC 7386). */
    Reply mergePatch(String path, String json) throws IOException, InterruptedException {
        return call(
                request(path)
                        .header("Content-Type", "application/merge-patch+json")
                        .method("PATCH", HttpRequest.BodyPublishers.ofString(json)));
    }

    private HttpRequest.Builder request(String path) throws IOException {
        HttpRequest.Builder builder =
                HttpRequest.newBuilder(base.resolve(path))
                        .timeout(deadline)
                        .header("Accept", "application/json")
                        .header("User-Agent", "vmrunner");
        String bearer = token();
        if (bearer != null) {
            builder.header("Authorization", "Bearer " + bearer);
        }
        return builder;
    }

    /** Forgets the token, so that the next call reads the file again (after a 401). */
    void tokenRejected() {
        token = null;
    }

    private String token() throws IOException {
        if (tokenFile == null) {
            return null;
        }
        long now = nanoTime.getAsLong();
        if (token == null || now - tokenReadAt >= TOKEN_REREAD_NANOS) {
            token = readToken(tokenFile);
            tokenReadAt = now;
        }
        return token;
    }

    static String readToken(Path file) throws IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_TOKEN + 1);
        }
        if (bytes.length > MAX_TOKEN) {
            throw new IOException("Token file " + file + " is larger than " + MAX_TOKEN + " bytes");
        }
        String text = new String(bytes, StandardCharsets.US_ASCII).strip();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c <= ' ' || c > '~') {
                throw new IOException("Token file " + file + " holds a character not allowed");
            }
        }
        return text;
    }

    /**
     * One exchange within the deadline, headers and body: {@link HttpRequest#timeout} covers only
     * the wait for the headers, so a server that drips its body would hold a plain read for ever.
     */
    private Reply call(HttpRequest.Builder request) throws IOException, InterruptedException {
        var future = http.sendAsync(request.build(), info -> BoundedBody.of(MAX_BODY));
        try {
            HttpResponse<String> response = future.get(deadline.toNanos(), TimeUnit.NANOSECONDS);
            return new Reply(response.statusCode(), response.body());
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new IOException("no complete reply within " + deadline.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            future.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IOException io
                    ? io
                    : new IOException(String.valueOf(cause.getMessage()), cause);
        }
    }

    /** An SSL context that trusts the PEM certificates in {@code caFile} (the cluster's CA). */
    private static SSLContext trusting(Path caFile) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(caFile)) {
            int i = 0;
            for (Certificate cert :
                    CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca" + i++, cert);
            }
        }
        TrustManagerFactory trust =
                TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }
}
