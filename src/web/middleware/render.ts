import path from "node:path";
import type { Express, Request, RequestHandler } from "express";
import { Eta } from "eta";

/**
 * Registers Eta as the view engine. Layouts decide full page vs fragment from `it.partial`
 * (set below from the htmx request headers): one template serves both.
 */
export function useEta(app: Express, viewsDir: string, cache: boolean): void {
  const eta = new Eta({ views: viewsDir, cache, autoEscape: true, autoTrim: [false, "nl"] });
  app.engine("eta", (filePath, options, callback) => {
    try {
      const relative = `./${path.relative(viewsDir, filePath).replace(/\.eta$/, "")}`;
      callback(null, eta.render(relative, options as object));
    } catch (err) {
      callback(err as Error);
    }
  });
  app.set("view engine", "eta");
  app.set("views", viewsDir);
}

/** True when htmx asked for a targeted swap: the layout then renders only the page's main content. */
export function isPartial(req: Request): boolean {
  return req.get("HX-Request") === "true" && req.get("HX-Request-Type") === "partial" && req.get("HX-History-Restore-Request") !== "true";
}

export const htmxLocals: RequestHandler = (req, res, next) => {
  res.vary("HX-Request");
  res.vary("HX-Request-Type");
  res.locals.partial = isPartial(req);
  next();
};
