import path from "node:path";
import { fileURLToPath } from "node:url";
import compression from "compression";
import express, { type Express } from "express";
import type { AppDeps } from "./deps.js";
import { formatTime } from "./domain/format.js";
import { LIMITS } from "./domain/limits.js";
import { footerLabel } from "./domain/site/accessibility.js";
import { doorsReady, formOrigins, oidcRoutes, openDoors } from "./web/auth/oidc.js";
import { authRoutes } from "./web/auth/routes.js";
import { healthCheck } from "./web/health.js";
import { backOfficeRoutes } from "./web/bo/routes.js";
import { assets } from "./web/middleware/assets.js";
import { csrfLocals } from "./web/middleware/csrf.js";
import { errorHandler, notFoundHandler } from "./web/middleware/errors.js";
import { flashLocals } from "./web/middleware/flash.js";
import { htmxLocals, useEta } from "./web/middleware/render.js";
import { requestLog } from "./web/middleware/request-log.js";
import { rescueExpiredSubmission } from "./web/middleware/rescue.js";
import { noStore, securityHeaders } from "./web/middleware/security.js";
import { absoluteLifetime, sessionMiddleware, sessionWrittenBeforeAnswer } from "./web/middleware/session.js";
import { bodyGuard } from "./web/middleware/body-guard.js";
import { fileUploads } from "./web/middleware/upload.js";
import { textFields } from "./web/middleware/text-fields.js";
import { FILE_ROUTES } from "./web/file-routes.js";
import { psRoutes } from "./web/ps/routes.js";
import { siteRoutes } from "./web/site/routes.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Builds the app (no listen: src/server.ts does that, tests use it as is). */
export function createApp(deps: AppDeps): Express {
  const { config, db, storage, logger } = deps;
  const app = express();
  app.disable("x-powered-by");
  if (config.trustProxy) app.set("trust proxy", 1);
  useEta(app, path.join(root, "views"), config.env === "production");
  const { asset, serve } = assets(path.join(root, "public"), {
    "js/htmx.js": path.join(root, "node_modules/htmx.org/dist/htmx.min.js"),
  });
  const session = sessionMiddleware(config, db);
  const onError = errorHandler(logger, config.showErrorDetails);
  const doors = openDoors(config);
  app.locals.sessionStore = session.store;
  // What every template may read: asset names and the limits forms state.
  app.locals.asset = asset;
  app.locals.limits = LIMITS;
  // The footer's link to the statement names the conformity state the statement gives.
  app.locals.accessibilityLabel = footerLabel();

  app.use(requestLog(logger));
  app.use(bodyGuard({ minBytesPerSecond: config.bodyMinBytesPerSecond, windowMs: config.bodyRateWindowMs }));
  const realDoors = doors.psc !== null || doors.sso !== null;
  // A configured provider's endpoints (PSC authorizes on another host) must be known before the CSP's form-action is written.
  if (realDoors) app.use((_req, _res, next) => void doorsReady(doors).then(() => next()));
  app.use(securityHeaders(config.secureCookies, realDoors ? () => formOrigins(doors) : null));
  // Behind a reverse proxy that compresses (COMPRESSION=off), the app does not spend its CPU on gzip.
  if (config.compression) app.use(compression());
  app.use(serve);
  // No icon to show: answer the browser's automatic request without an error in its console.
  app.get("/favicon.ico", (_req, res) => res.status(204).set("Cache-Control", "public, max-age=604800").end());
  app.get("/healthz", healthCheck(deps));
  app.use(noStore, (_req, res, next) => {
    // What every page (error pages included, even before the session is read) needs to render.
    res.locals.user = null;
    res.locals.csrf = () => "";
    next();
  });
  app.use(express.urlencoded({ extended: false, limit: "200kb", parameterLimit: 60 }));
  app.use(session.middleware);
  app.use(sessionWrittenBeforeAnswer(onError));
  app.use(absoluteLifetime(config));
  // Multipart bodies are read on the routes that take files only, after the session (upload.ts: CSRF before any file).
  app.post(FILE_ROUTES, fileUploads(storage.tmpDir, config.uploadTempPerUserBytes));
  app.use(textFields);
  app.use(rescueExpiredSubmission(config.sessionSecret));
  app.use(htmxLocals, flashLocals, csrfLocals, (req, res, next) => {
    res.locals.user = req.session.user ?? null;
    if (req.session.user) {
      // The real deadline, as the store holds it once this request is answered: what the warning counts down to.
      const now = Date.now();
      const endsAt = session.store.expiresAt(req.sessionID, now);
      res.locals.sessionMinutes = Math.max(1, Math.round(config.sessionIdleMs / 60_000));
      res.locals.sessionEndsAt = formatTime(new Date(endsAt));
      res.locals.sessionRemainingMs = endsAt - now;
      res.locals.sessionIdleMs = config.sessionIdleMs;
      res.set("X-Session-Remaining", String(endsAt - now));
    }
    next();
  });

  app.use(siteRoutes(deps));
  app.use(authRoutes(deps, doors));
  app.use(oidcRoutes(deps, doors));
  app.use(psRoutes(deps));
  app.use(backOfficeRoutes(deps));

  app.use(notFoundHandler);
  app.use(onError);
  return app;
}
