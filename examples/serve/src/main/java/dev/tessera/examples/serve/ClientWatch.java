package dev.tessera.examples.serve;

import io.javalin.http.Context;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.AbstractEndPoint;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;

/**
 * Tells when the client of a pending answer has gone. Jetty 12 reads nothing from an HTTP/1.1 connection while a
 * request on it is being handled, so a client that closes its socket while it waits for a synchronous answer goes
 * unnoticed until the answer is written (no failure listener, no async listener fires: there is nothing to fire
 * them). The watch asks the connection's end point to say when the socket becomes readable: a waiting client sends
 * nothing, so readable means the end of the stream (the client closed: {@code onGone} runs) or, rarely, a pipelined
 * next request. That request's first bytes are then consumed here and cannot be handed back, so the answer is sent
 * with {@code Connection: close} and the client sends its pipelined request again on a new connection, as HTTP/1.1
 * lets a client that pipelines expect. {@link #stop} withdraws the interest before the answer is written, so that
 * Jetty reads the connection's next request itself.
 */
final class ClientWatch {
    private final EndPoint endPoint;
    private final Runnable onGone;
    private final ByteBuffer sink = BufferUtil.allocate(256);
    private boolean stopped, pipelined;

    private ClientWatch(EndPoint endPoint, Runnable onGone) {
        this.endPoint = endPoint;
        this.onGone = onGone;
    }

    /** Starts watching the connection of {@code ctx}; a watch that cannot work (not HTTP/1.x) does nothing. */
    static ClientWatch start(Context ctx, Runnable onGone) {
        ServletContextRequest core = ServletContextRequest.getServletContextRequest(ctx.req());
        EndPoint ep = core == null
                ? null
                : core.getConnectionMetaData().getConnection().getEndPoint();
        boolean http1 =
                core != null && core.getConnectionMetaData().getHttpVersion().getVersion() < 20;
        ClientWatch w = new ClientWatch(http1 && ep instanceof AbstractEndPoint ? ep : null, onGone);
        w.register();
        return w;
    }

    private void register() {
        if (endPoint != null && !endPoint.tryFillInterested(callback)) {
            synchronized (this) {
                stopped = true; // someone else reads this connection: nothing to watch
            }
        }
    }

    /**
     * Ends the watch before the answer is written; true when the watch consumed a pipelined request's bytes (the
     * answer must then close the connection).
     */
    boolean stop() {
        synchronized (this) {
            if (endPoint == null) return false;
            if (!stopped) {
                stopped = true;
                ((AbstractEndPoint) endPoint).getFillInterest().onFail(new CancellationException("answer ready"));
            }
            return pipelined;
        }
    }

    private final Callback callback = new Callback() {
        @Override
        public void succeeded() {
            boolean gone;
            synchronized (ClientWatch.this) {
                if (stopped) return;
                int n;
                try {
                    BufferUtil.clear(sink);
                    n = endPoint.fill(sink);
                } catch (IOException e) {
                    n = -1;
                }
                if (n == 0) {
                    register(); // woken with nothing to read: keep watching
                    return;
                }
                stopped = true;
                gone = n < 0;
                pipelined = n > 0;
            }
            if (gone) onGone.run();
        }

        @Override
        public void failed(Throwable x) {
            synchronized (ClientWatch.this) {
                if (stopped) return;
                if (x instanceof TimeoutException) {
                    register(); // the connection's idle timeout: the client may still be there
                    return;
                }
                stopped = true;
            }
            onGone.run(); // the connection failed or closed
        }
    };
}
