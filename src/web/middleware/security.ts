import type { RequestHandler } from "express";
import helmet from "helmet";

/**
 * Security headers: a strict CSP (no inline script or style), no framing, same-origin referrer, HSTS over TLS.
 * `formTargets`: the configured OpenID providers' origins (issue 16: the login button's post and the logout are
 * redirected there), added to form-action — and nothing when no provider is configured.
 */
export function securityHeaders(tls: boolean, formTargets: (() => string[]) | null = null): RequestHandler {
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
        formAction: formTargets ? ["'self'", () => formTargets().join(" ")] : ["'self'"],
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
