import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";

/**
 * How a log line names a request: the pattern of the route that matched (`/ps/conversations/:conversationId`,
 * with its router's base), "static" for a hashed asset, or "unmatched" — never the path itself, which may
 * carry a name or a NIR typed into the address bar (`/ps/dossier/<NAME>-…`), nor a query string.
 */
export function routeOf(req: Request, res?: Response): string {
  if (req.route?.path && typeof req.route.path === "string") return `${req.baseUrl ?? ""}${req.route.path}`;
  if (res?.locals.logRoute === "static") return "static";
  return "unmatched";
}

/** One log line per request: method, route pattern, status, duration — never a path, a query string, a body or a name. */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      logger.info({ method: req.method, route: routeOf(req, res), status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, "request");
    });
    next();
  };
}
