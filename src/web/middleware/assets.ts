import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { RequestHandler } from "express";

type Asset = { body: Buffer; type: string };

const TYPES: Record<string, string> = { ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml", ".ico": "image/x-icon" };

/**
 * Static files under content-hashed names (`/assets/app.3f2a9c1b.css`), cached for a year:
 * a new version gets a new name. Templates ask `asset("css/app.css")` for the current name.
 */
export function assets(publicDir: string, extra: Record<string, string>): { asset: (name: string) => string; serve: RequestHandler } {
  const byUrl = new Map<string, Asset>();
  const urls = new Map<string, string>();
  const add = (name: string, file: string) => {
    const body = fs.readFileSync(file);
    const hash = crypto.createHash("sha256").update(body).digest("hex").slice(0, 10);
    const ext = path.extname(name);
    const url = `/assets/${path.basename(name, ext)}.${hash}${ext}`;
    byUrl.set(url, { body, type: TYPES[ext] ?? "application/octet-stream" });
    urls.set(name, url);
  };
  for (const sub of ["css", "js"]) {
    const dir = path.join(publicDir, sub);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) add(`${sub}/${f}`, path.join(dir, f));
  }
  for (const [name, file] of Object.entries(extra)) add(name, file);
  return {
    asset: (name) => {
      const url = urls.get(name);
      if (!url) throw new Error(`unknown asset ${name}`);
      return url;
    },
    serve: (req, res, next) => {
      const found = byUrl.get(req.path);
      if (!found || (req.method !== "GET" && req.method !== "HEAD")) return next();
      res.locals.logRoute = "static";
      res.set({ "Content-Type": found.type, "Cache-Control": "public, max-age=31536000, immutable" });
      res.send(found.body);
    },
  };
}
