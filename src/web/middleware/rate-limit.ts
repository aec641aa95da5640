import type { RequestHandler } from "express";
import { rateLimit, ipKeyGenerator, type IncrementResponse, type Options, type Store } from "express-rate-limit";
import type { Db } from "../../db/connection.js";
import { parseId } from "../../domain/ids.js";
import { HttpError } from "./errors.js";

/** express-rate-limit counters kept in the database (table `rate_limits`), so every process shares them. */
export class KnexRateLimitStore implements Store {
  localKeys = false;
  private windowMs = 60_000;
  constructor(
    private readonly db: Db,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<IncrementResponse> {
    const now = Date.now();
    const id = `${this.prefix}${key}`;
    await this.db("rate_limits")
      .insert({ key: id, hits: 1, reset_at: now + this.windowMs })
      .onConflict("key")
      .merge({
        hits: this.db.raw("CASE WHEN rate_limits.reset_at <= ? THEN 1 ELSE rate_limits.hits + 1 END", [now]),
        reset_at: this.db.raw("CASE WHEN rate_limits.reset_at <= ? THEN ? ELSE rate_limits.reset_at END", [now, now + this.windowMs]),
      });
    const row = await this.db("rate_limits").where({ key: id }).first("hits", "reset_at");
    return { totalHits: Number(row.hits), resetTime: new Date(Number(row.reset_at)) };
  }

  async decrement(key: string): Promise<void> {
    await this.db("rate_limits")
      .where({ key: `${this.prefix}${key}` })
      .where("hits", ">", 0)
      .decrement("hits", 1);
  }

  async resetKey(key: string): Promise<void> {
    await this.db("rate_limits")
      .where({ key: `${this.prefix}${key}` })
      .del();
  }
}

/**
 * Failed logins are limited per address and per card (on top of the card's own 3-PIN block):
 * past the limit, a French 429 page; successful logins are not counted.
 */
function failedLogins(windowMs: number) {
  return {
    windowMs,
    skipSuccessfulRequests: true,
    standardHeaders: "draft-8" as const,
    legacyHeaders: false,
    handler: (_req: unknown, _res: unknown, next: (err: unknown) => void) => next(new HttpError(429, "too many login attempts")),
  };
}

export function loginLimiters(db: Db, perAddress: number, perCard: number, windowMs = 15 * 60_000): RequestHandler[] {
  const common = failedLogins(windowMs);
  return [
    rateLimit({ ...common, limit: perAddress, store: new KnexRateLimitStore(db, "login-ip:"), keyGenerator: (req) => ipKeyGenerator(req.ip ?? "") }),
    rateLimit({
      ...common,
      limit: perCard,
      store: new KnexRateLimitStore(db, "login-card:"),
      // The parsed id, so that "2", "02" and "002" are one card.
      keyGenerator: (req) => {
        const id = parseId(String(req.body?.card ?? req.body?.agent ?? ""));
        return id === null ? "invalid" : String(id);
      },
    }),
  ];
}

/**
 * The OpenID providers' callbacks (issue 16): failed callbacks (a refused or broken login answers 4xx) limited per
 * address, counted apart from the card logins; past the limit the same French 429 page.
 */
export function callbackLimiter(db: Db, perAddress: number, windowMs = 15 * 60_000): RequestHandler {
  return rateLimit({
    ...failedLogins(windowMs),
    limit: perAddress,
    store: new KnexRateLimitStore(db, "login-oidc-ip:"),
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? ""),
  });
}

/** The accessibility statement's contact form (public): at most `perAddress` messages an hour from one address. */
export function feedbackLimiter(db: Db, perAddress = 20): RequestHandler {
  return rateLimit({
    windowMs: 60 * 60_000,
    limit: perAddress,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    store: new KnexRateLimitStore(db, "feedback-ip:"),
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? ""),
    handler: (_req, _res, next) => next(new HttpError(429, "too many feedback messages")),
  });
}
