import cluster from "node:cluster";
import type { Server } from "node:http";
import { loadConfig } from "./config.js";
import { connect } from "./db/connection.js";
import type { KnexSessionStore } from "./http/session-store.js";
import { buildRuntime, prepareDatabase } from "./runtime.js";

const config = loadConfig();
const workers = Math.max(1, Number.parseInt(process.env.WEB_CONCURRENCY ?? "1", 10) || 1);

async function startWorker(): Promise<void> {
  const { app, db, logger, notifier } = buildRuntime(config);
  const server: Server = app.listen(config.port, () => logger.info({ port: config.port, pid: process.pid }, "listening"));
  const store = app.locals.sessionStore as KnexSessionStore;
  const timers = [
    setInterval(() => void notifier.flush().catch((err) => logger.warn({ err }, "notification flush failed")), 30_000),
    setInterval(() => void store.prune().catch(() => undefined), 10 * 60_000),
  ];
  const stop = (signal: string) => {
    logger.info({ signal }, "shutting down");
    timers.forEach(clearInterval);
    server.close(() => void db.destroy().then(() => process.exit(0)));
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

async function main(): Promise<void> {
  if (cluster.isPrimary) {
    // Workers must share one session secret; a generated one is handed to them through the environment.
    process.env.SESSION_SECRET ??= config.sessionSecret;
    const db = connect(config);
    await prepareDatabase(db, process.env.SEED_DEMO !== "false");
    await db.destroy();
    if (workers > 1) {
      for (let i = 0; i < workers; i += 1) cluster.fork();
      cluster.on("exit", (worker, code) => {
        if (code !== 0) cluster.fork();
      });
      const stopAll = () => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
      };
      process.once("SIGTERM", stopAll);
      process.once("SIGINT", stopAll);
      return;
    }
  }
  await startWorker();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
