package dev.vmrunner.kube;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * The few REST calls the runner makes: one HTTP/1.1 request per connection ({@code Connection:
 * close}) over the JDK's socket and TLS, with the pod's ServiceAccount token. No HTTP client
 * library and not the JDK's {@code java.net.http}: that module is not in the image's runtime, and
 * it cost 13 MiB more memory in the bench; {@code HttpURLConnection} cannot PATCH. The API server
 * is untrusted: every call has a deadline for the whole exchange (each read waits only for what is
 * left of it), at most {@link #MAX_HEAD} bytes of headers and {@link #MAX_BODY} of a body are read.
 * One caller thread at a time (the reporter's).
 */
final class ApiClient {

    /** Of a reply's body only the start is kept, for a failure's message. */
    static final int MAX_BODY = 1024;

    /** The most bytes of status line and headers read. */
    static final int MAX_HEAD = 16 * 1024;

    /** The longest token file read; a service account token is about 1 KiB. */
    private static final int MAX_TOKEN = 16 * 1024;

    /** A rotated token is read again at least this often (the kubelet rotates it hourly). */
    private static final long TOKEN_REREAD_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final boolean tls;
    private final String host;
    private final int port;
    private final String hostHeader;
    private final Path tokenFile;
    private final Duration deadline;
    private final LongSupplier nanoTime;
    private final SSLSocketFactory sockets;
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
     * @param nanoTime the clock of the token's rereads
     */
    ApiClient(URI base, Path tokenFile, Path caFile, Duration deadline, LongSupplier nanoTime)
            throws IOException, GeneralSecurityException {
        this.tls = "https".equals(base.getScheme());
        String named = base.getHost();
        this.host = named.startsWith("[") ? named.substring(1, named.length() - 1) : named;
        this.port = base.getPort() != -1 ? base.getPort() : tls ? 443 : 80;
        this.hostHeader = named + ":" + port;
        this.tokenFile = tokenFile;
        this.deadline = deadline;
        this.nanoTime = nanoTime;
        this.sockets =
                !tls
                        ? null
                        : caFile != null
                                ? trusting(caFile).getSocketFactory()
                                : (SSLSocketFactory) SSLSocketFactory.getDefault();
    }

    /** POSTs {@code json} to {@code path}. */
    Reply post(String path, String json) throws IOException {
        return call("POST", path, "application/json", json);
    }

    /** PATCHes {@code path} with a JSON merge patch (RFC 7386). */
    Reply mergePatch(String path, String json) throws IOException {
        return call("PATCH", path, "application/merge-patch+json", json);
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

    private Reply call(String method, String path, String type, String json) throws IOException {
        String bearer = token();
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        StringBuilder head =
                new StringBuilder()
                        .append(method)
                        .append(' ')
                        .append(path)
                        .append(" HTTP/1.1\r\nHost: ")
                        .append(hostHeader)
                        .append("\r\nUser-Agent: vmrunner\r\nAccept: application/json\r\n")
                        .append("Content-Type: ")
                        .append(type)
                        .append("\r\nContent-Length: ")
                        .append(body.length)
                        .append("\r\nConnection: close\r\n");
        if (bearer != null) {
            head.append("Authorization: Bearer ").append(bearer).append("\r\n");
        }
        head.append("\r\n");
        // Real time, whatever clock the token's rereads go by: the sockets wait in real time.
        long end = System.nanoTime() + deadline.toNanos();
        try (Socket socket = open(end)) {
            OutputStream out = socket.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            return read(socket, end);
        } catch (SocketTimeoutException e) {
            throw late(e);
        }
    }

    private Socket open(long end) throws IOException {
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(host, port), waitMillis(end));
            if (!tls) {
                return plain;
            }
            SSLSocket secure = (SSLSocket) sockets.createSocket(plain, host, port, true);
            SSLParameters parameters = secure.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS"); // the name or IP is checked
            secure.setSSLParameters(parameters);
            secure.setSoTimeout(waitMillis(end));
            secure.startHandshake();
            return secure;
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    /** Status line, headers and the start of the body, each read waiting only until the end. */
    private Reply read(Socket socket, long end) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buffer = new byte[2048];
        int headEnd = -1;
        long wanted = MAX_HEAD;
        while (got.size() < wanted) {
            socket.setSoTimeout(waitMillis(end));
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, wanted - got.size()));
            if (n < 0) {
                break;
            }
            got.write(buffer, 0, n);
            if (headEnd < 0) {
                headEnd = got.toString(StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n");
                if (headEnd >= 0) {
                    wanted = headEnd + 4 + Math.min(MAX_BODY, contentLength(got, headEnd));
                }
            }
        }
        String text = got.toString(StandardCharsets.ISO_8859_1);
        if (headEnd < 0 && got.size() >= MAX_HEAD) {
            throw new IOException("headers longer than " + MAX_HEAD + " bytes");
        }
        if (!text.startsWith("HTTP/1.") || text.length() < 12) {
            throw new IOException("not an HTTP reply");
        }
        int status;
        try {
            status = Integer.parseInt(text.substring(9, 12));
        } catch (NumberFormatException e) {
            throw new IOException("not an HTTP status: " + text.substring(0, 12), e);
        }
        byte[] all = got.toByteArray();
        int from = headEnd < 0 ? all.length : headEnd + 4;
        int length = Math.min(MAX_BODY, all.length - from);
        return new Reply(status, new String(all, from, length, StandardCharsets.UTF_8));
    }

    /** The Content-Length, or {@link #MAX_BODY} without one (chunked: read to the bound). */
    private static long contentLength(ByteArrayOutputStream got, int headEnd) {
        String head = got.toString(StandardCharsets.ISO_8859_1).substring(0, headEnd);
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                try {
                    return Math.max(0, Long.parseLong(line.substring(15).strip()));
                } catch (NumberFormatException e) {
                    return MAX_BODY;
                }
            }
        }
        return MAX_BODY;
    }

    /** What is left of the deadline, for a timeout (at least 1 ms); none left fails the call. */
    private int waitMillis(long end) throws IOException {
        long left = end - System.nanoTime();
        if (left <= 0) {
            throw late(null);
        }
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left)));
    }

    private IOException late(Exception cause) {
        return new IOException("no complete reply within " + deadline.toMillis() + " ms", cause);
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
