import { Router } from "express";
import type { AppDeps } from "../app.js";

/** The ELSM back office (issue 3). */
export function backOfficeRoutes(_deps: AppDeps): Router {
  const router = Router();
  return router;
}
