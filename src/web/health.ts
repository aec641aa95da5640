import type { RequestHandler } from "express";
import type { AppDeps } from "../deps.js";
import { checkHealth } from "../domain/health.js";

/**
 * GET /healthz, polled by the load balancer: 200 `{status:"ok"}` when the database and the storage take a write,
 * else 503 `{status:"failing", database, storage}`. A failure is logged at error level once (by errorFacts: the
 * code, never a path), then again only after the service was healthy in between.
 */
export function healthCheck(deps: Pick<AppDeps, "db" | "storage" | "logger">): RequestHandler {
  let failing = false;
  return async (_req, res) => {
    const health = await checkHealth(deps);
    res.set("Cache-Control", "no-store");
    if (health.ok) {
      if (failing) deps.logger.info("health restored: database and storage take writes again");
      failing = false;
      return res.json({ status: "ok" });
    }
    if (!failing) {
      deps.logger.error(
        { database: health.database, storage: health.storage, databaseErr: health.faults.database, storageErr: health.faults.storage },
        "health check failing: cannot store",
      );
    }
    failing = true;
    return res.status(503).json({ status: "failing", database: health.database, storage: health.storage });
  };
}
