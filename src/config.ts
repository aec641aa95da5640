import path from "node:path";
import crypto from "node:crypto";
import { REQUEST_MAX_BYTES } from "./domain/attachments/rules.js";

const MB = 1024 * 1024;

/** Every setting the app reads, from the environment, with its default. Documented in README.md. */
export interface Config {
  env: "development" | "production" | "test";
  port: number;
  /** App processes the server forks (node:cluster); 1 = no cluster. */
  workers: number;
  /** Seed the demo data on an empty database at start (on unless SEED_DEMO=false). */
  seedDemo: boolean;
  databaseUrl: string | undefined;
  /** PostgreSQL schema to use (default: the server's search_path); the tests give each run its own. */
  databaseSchema: string | undefined;
  sqliteFile: string;
  storageDir: string;
  outboxDir: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  publicUrl: string;
  sessionSecret: string;
  sessionIdleMinutes: number;
  /** The idle limit in ms: SESSION_IDLE_MINUTES, or for tests only SESSION_IDLE_SECONDS (a dialog scenario in seconds). */
  sessionIdleMs: number;
  sessionAbsoluteHours: number;
  secureCookies: boolean;
  /** Stack traces on error pages: only with NODE_ENV=development explicitly. */
  showErrorDetails: boolean;
  trustProxy: boolean;
  logLevel: string;
  loginLimitPerAddress: number;
  loginLimitPerCard: number;
  auditRetentionDays: number;
  clamavCommand: string | undefined;
  clamavDatabase: string | undefined;
  /** Temporary space one signed-in user's uploads in progress may hold in this process (bytes). */
  uploadTempPerUserBytes: number;
  /** A request body arriving slower than this (bytes per second, measured over bodyRateWindowMs) is cut. */
  bodyMinBytesPerSecond: number;
  bodyRateWindowMs: number;
  /** Node's server limits: all headers within headersTimeoutMs, the whole request within requestTimeoutMs. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

function int(value: string | undefined, fallback: number): number {
  const parsed = Number.parseInt(value ?? "", 10);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = env.NODE_ENV === "production" || env.NODE_ENV === "test" ? env.NODE_ENV : "development";
  const dataDir = path.resolve(env.DATA_DIR ?? "data");
  const port = int(env.PORT, 3000);
  if (nodeEnv === "production" && !env.SESSION_SECRET) {
    throw new Error("SESSION_SECRET must be set in production");
  }
  return {
    env: nodeEnv,
    port,
    workers: int(env.WEB_CONCURRENCY, 1),
    seedDemo: env.SEED_DEMO !== "false",
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: env.DATABASE_SCHEMA || undefined,
    sqliteFile: path.resolve(env.SQLITE_FILE ?? path.join(dataDir, "echanges.sqlite3")),
    storageDir: path.resolve(env.STORAGE_DIR ?? path.join(dataDir, "attachments")),
    outboxDir: path.resolve(env.OUTBOX_DIR ?? path.join(dataDir, "outbox")),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM ?? "Échanges médicaux sécurisés <ne-pas-repondre@echanges.example>",
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, ""),
    // A random secret only lives as long as the process: fine for the demo, refused in production above.
    sessionSecret: env.SESSION_SECRET ?? crypto.randomBytes(32).toString("hex"),
    sessionIdleMinutes: int(env.SESSION_IDLE_MINUTES, 30),
    sessionIdleMs: env.SESSION_IDLE_SECONDS ? int(env.SESSION_IDLE_SECONDS, 1800) * 1000 : int(env.SESSION_IDLE_MINUTES, 30) * 60_000,
    sessionAbsoluteHours: int(env.SESSION_ABSOLUTE_HOURS, 12),
    // Production is served over TLS: Secure cookies unless explicitly turned off.
    secureCookies: env.COOKIE_SECURE ? env.COOKIE_SECURE === "true" : nodeEnv === "production",
    showErrorDetails: env.NODE_ENV === "development",
    trustProxy: env.TRUST_PROXY === "true",
    logLevel: env.LOG_LEVEL ?? (nodeEnv === "test" ? "silent" : "info"),
    loginLimitPerAddress: int(env.LOGIN_LIMIT_PER_ADDRESS, 300),
    loginLimitPerCard: int(env.LOGIN_LIMIT_PER_CARD, 6),
    auditRetentionDays: int(env.AUDIT_RETENTION_DAYS, 183),
    clamavCommand: env.CLAMAV_COMMAND || undefined,
    clamavDatabase: env.CLAMAV_DATABASE || undefined,
    uploadTempPerUserBytes: int(env.UPLOAD_TEMP_PER_USER_MB, 2 * Math.ceil(REQUEST_MAX_BYTES / MB)) * MB,
    bodyMinBytesPerSecond: int(env.BODY_MIN_BYTES_PER_SECOND, 1024),
    bodyRateWindowMs: int(env.BODY_RATE_WINDOW_SECONDS, 10) * 1000,
    headersTimeoutMs: int(env.HEADERS_TIMEOUT_SECONDS, 20) * 1000,
    requestTimeoutMs: int(env.REQUEST_TIMEOUT_SECONDS, 600) * 1000,
  };
}
