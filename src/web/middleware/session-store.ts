import session from "express-session";
import type { Db } from "../../db/connection.js";

/**
 * Sessions kept in the database (table `sessions`), so every app process sees the same ones.
 * Written here rather than taken from connect-session-knex, which rethrows database errors after
 * calling back and so crashes Node 20 (see docs/ARCHITECTURE.md).
 */
const TOUCH_EVERY_MS = 60_000;

export class KnexSessionStore extends session.Store {
  /** When this process last wrote each session's deadline (set or touch). */
  private readonly touched = new Map<string, number>();
  /** A short idle limit (tests) is touched more often: the deadline is at most a tenth of it early. */
  private readonly touchEveryMs: number;

  constructor(
    private readonly db: Db,
    private readonly fallbackMs: number,
  ) {
    super();
    this.touchEveryMs = Math.min(TOUCH_EVERY_MS, Math.floor(fallbackMs / 10));
  }

  /**
   * When the session ends once the request under way is answered (ms): now + the idle limit if this request writes
   * its deadline, else the deadline this process last wrote. What the warning dialog counts down to.
   */
  expiresAt(sid: string, now = Date.now()): number {
    const last = this.touched.get(sid);
    return last !== undefined && now - last < this.touchEveryMs ? last + this.fallbackMs : now + this.fallbackMs;
  }

  private expiry(sess: session.SessionData): number {
    const expires = sess.cookie?.expires;
    return expires ? new Date(expires).getTime() : Date.now() + this.fallbackMs;
  }

  override get(sid: string, cb: (err: unknown, sess?: session.SessionData | null) => void): void {
    this.db("sessions")
      .where({ sid })
      .first("data", "expires_at")
      .then(
        (row: { data: string; expires_at: number | string } | undefined) => {
          if (!row || Number(row.expires_at) <= Date.now()) return cb(null, null);
          cb(null, JSON.parse(row.data) as session.SessionData);
        },
        (err: unknown) => cb(err),
      );
  }

  override set(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void): void {
    const row = { sid, data: JSON.stringify(sess), expires_at: this.expiry(sess) };
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(sid, Date.now());
    this.db("sessions")
      .insert(row)
      .onConflict("sid")
      .merge(["data", "expires_at"])
      .then(
        () => cb?.(),
        (err: unknown) => cb?.(err),
      );
  }

  /**
   * Extends the idle deadline. Written at most once a minute per session (and process): a write
   * on every request costs an fsync each; the deadline is then at most a minute early.
   */
  override touch(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void): void {
    const now = Date.now();
    if (now - (this.touched.get(sid) ?? 0) < this.touchEveryMs) {
      cb?.();
      return;
    }
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(sid, now);
    this.db("sessions")
      .where({ sid })
      .update({ expires_at: this.expiry(sess) })
      .then(
        () => cb?.(),
        (err: unknown) => cb?.(err),
      );
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.touched.delete(sid);
    this.db("sessions")
      .where({ sid })
      .del()
      .then(
        () => cb?.(),
        (err: unknown) => cb?.(err),
      );
  }

  /** Removes expired rows; called periodically by the server. */
  async prune(): Promise<number> {
    return this.db("sessions").where("expires_at", "<=", Date.now()).del();
  }
}
