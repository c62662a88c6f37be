import type { ServerHttp2Session } from 'node:http2';

/**
 * The connection-level flow-control window the simulators open on every connection
 * they accept (HTTP/2 starts each connection at 65 535 bytes).
 *
 * Why: Node 20's http2 client can stall a request whose body meets an exhausted
 * connection window — the stream never finishes sending, the server never sees the
 * request, and the client's request timeout ends it after 10 s, as a retry. With 1 000
 * pushes in flight the default window runs out every few hundred requests, and one
 * large send offline lost a retry's worth of seconds to each stall (the latency bench:
 * 18 timeouts per 50 000 pushes, the last push at 15–30 s instead of 9 s). Node 24, the
 * Lambda runtime, does not stall, and neither does Node 20 when the window is wide
 * (docs/offline.md, "HTTP/2 flow control", has a twenty-line repro). A wide window is
 * what busy HTTP/2 servers advertise; it changes nothing else about the simulators.
 */
export const SIMULATOR_CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;

export function openConnectionWindow(session: ServerHttp2Session): void {
  session.setLocalWindowSize(SIMULATOR_CONNECTION_WINDOW_BYTES);
}
