import type { RequestHandler } from "express";
import type { Logger } from "pino";

/** One log line per request: method, route pattern (ids only), status, duration — never a query string, a body or a name. */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : req.path.replace(/\d+/g, ":id");
      logger.info({ method: req.method, route, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, "request");
    });
    next();
  };
}
