import type { RequestHandler } from "express";
import helmet from "helmet";

/** Security headers: a strict CSP (no inline script or style), no framing, same-origin referrer, HSTS over TLS. */
export function securityHeaders(tls: boolean): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        // Over plain http (demo, tests) this would send redirected form posts to https.
        ...(tls ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: tls,
    referrerPolicy: { policy: "same-origin" },
  });
}

/** Pages carry health data: never kept by a browser or proxy cache. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.set("Cache-Control", "no-store");
  next();
};
