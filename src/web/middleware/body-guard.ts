import type { RequestHandler } from "express";

/**
 * Bounds how long a request body may hold a connection, on top of Node's headersTimeout / requestTimeout
 * (src/http-server.ts):
 * - a body arriving slower than `minBytesPerSecond` over a window (one byte every few seconds) is cut;
 * - a body left unread when the answer is sent (a 403 or a login page before an upload, an upload stopped
 *   at its limit) is not read to its end: the client gets `lingerMs` to read the answer, then the connection
 *   is closed.
 */
export function bodyGuard(options: { minBytesPerSecond: number; windowMs: number; lingerMs?: number }): RequestHandler {
  const linger = options.lingerMs ?? 1000;
  const minPerWindow = (options.minBytesPerSecond * options.windowMs) / 1000;
  return (req, res, next) => {
    const length = Number(req.get("content-length") ?? 0);
    if (!(length > 0) && !req.get("transfer-encoding")) return next();
    const socket = req.socket;
    // The request too: once answered, Node no longer ties it to its socket, and whoever reads it must see it end.
    const cut = () => {
      socket.destroy();
      req.destroy();
    };
    let seen = socket.bytesRead;
    const timer = setInterval(() => {
      if (req.complete) return clearInterval(timer);
      const now = socket.bytesRead;
      if (now - seen < minPerWindow) {
        clearInterval(timer);
        cut();
        return;
      }
      seen = now;
    }, options.windowMs);
    timer.unref();
    res.once("close", () => clearInterval(timer));
    res.once("finish", () => {
      if (req.complete) return;
      setTimeout(() => {
        if (!req.complete) cut();
      }, linger).unref();
    });
    next();
  };
}
