import cluster from "node:cluster";
import type { ServerResponse } from "node:http";
import { loadConfig } from "./config.js";
import { connect } from "./db/connection.js";
import { deadlinePass } from "./domain/conversations/deadlines.js";
import { retentionPass } from "./domain/conversations/retention.js";
import type { KnexSessionStore } from "./web/middleware/session-store.js";
import { createHttpServer } from "./http-server.js";
import { buildRuntime, prepareDatabase } from "./runtime.js";

/** A setting refused (half an OpenID provider's configuration, a missing secret…): said in one line, nothing started. */
function configOrExit() {
  try {
    return loadConfig();
  } catch (err) {
    process.stderr.write(`Démarrage refusé : ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

const config = configOrExit();
/** How often each process runs the retention passes (notices, then purges: each thread claimed). */
const RETENTION_PASS_MS = 15 * 60_000;

async function startWorker(): Promise<void> {
  const { app, db, logger, notifier, storage } = buildRuntime(config);
  await storage.sweepTmp(60 * 60_000);
  const server = createHttpServer(app, config).listen(config.port, () => logger.info({ port: config.port, pid: process.pid }, "listening"));
  const store = app.locals.sessionStore as KnexSessionStore;
  const timers = [
    setInterval(() => void notifier.flush().catch((err) => logger.warn({ err }, "notification flush failed")), 30_000),
    // Answer-due dates past: flagged overdue, each reminded once even with several processes (issue 14 §2).
    setInterval(
      () =>
        void deadlinePass(db, new Date())
          .then((r) => (r.flagged ? notifier.flush() : 0))
          .catch((err) => logger.warn({ err }, "deadline pass failed")),
      config.deadlinePassMs,
    ),
    // Retention (issue 17 §1): notices queued once, threads purged on their date, by whichever process comes first.
    setInterval(
      () =>
        void retentionPass({ db, storage }, { months: config.retentionMonths, noticeDays: config.retentionNoticeDays }, new Date())
          .then((r) => (r.mails ? notifier.flush() : 0))
          .catch((err) => logger.warn({ err }, "retention pass failed")),
      RETENTION_PASS_MS,
    ),
    setInterval(() => void store.prune().catch(() => undefined), 10 * 60_000),
    // Uploads a handler never answered for (none expected): their temporary files, an hour later.
    setInterval(() => void storage.sweepTmp(60 * 60_000).catch(() => undefined), 30 * 60_000),
  ];
  // Graceful shutdown: stop accepting, let requests in flight finish, and tell keep-alive clients
  // (browsers, load balancer) to close their connection after the response they are waiting for.
  let closing = false;
  const inFlight = new Set<ServerResponse>();
  server.on("request", (_req, res: ServerResponse) => {
    inFlight.add(res);
    if (closing) res.setHeader("Connection", "close");
    res.on("close", () => inFlight.delete(res));
  });
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    timers.forEach(clearInterval);
    for (const res of inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
    server.close(() => void db.destroy().then(() => process.exit(0)));
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/** Migrate and seed; replicas started together may race on an empty database, so retry (both steps are idempotent). */
async function prepareWithRetry(): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const db = connect(config);
    try {
      await prepareDatabase(db, config.seedDemo);
      return;
    } catch (err) {
      if (attempt >= 6) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt + Math.random() * 300));
    } finally {
      await db.destroy();
    }
  }
}

async function main(): Promise<void> {
  if (cluster.isPrimary) {
    // Workers must share one session secret; a generated one is handed to them through the environment.
    process.env.SESSION_SECRET ??= config.sessionSecret;
    await prepareWithRetry();
    if (config.workers > 1) {
      let stopping = false;
      for (let i = 0; i < config.workers; i += 1) cluster.fork();
      cluster.on("exit", (_worker, code) => {
        if (code !== 0 && !stopping) cluster.fork();
      });
      const stopAll = () => {
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
      };
      process.on("SIGTERM", stopAll);
      process.on("SIGINT", stopAll);
      return;
    }
  }
  await startWorker();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
