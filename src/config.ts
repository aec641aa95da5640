import path from "node:path";
import crypto from "node:crypto";
import { REQUEST_MAX_BYTES } from "./domain/attachments/rules.js";
import type { S3Settings } from "./domain/attachments/s3-storage.js";

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
  /** SQLite connections per process (SQLITE_CONNECTIONS, default 4): readers side by side, one writer at a time (WAL). */
  sqliteConnections: number;
  /** gzip the answers (COMPRESSION=off leaves it to the reverse proxy in front). */
  compression: boolean;
  /** Local storage folder; with a bucket, still the home of `tmp/` (uploads in progress, checked before they are stored). */
  storageDir: string;
  /** The S3-compatible bucket that holds attachments (issue 17 §2); null: the local folder `storageDir`. */
  storageS3: S3Settings | null;
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
  /** Issue 17 §1: a closed or deleted thread is purged after this many months without a message… */
  retentionMonths: number;
  /** …announced this many days before (one content-free mail to each party, a banner on the thread). */
  retentionNoticeDays: number;
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
  /** How often each app process runs the deadline pass (issue 14 §2): DEADLINE_PASS_SECONDS, 3 minutes by default. */
  deadlinePassMs: number;
  /** Pro Santé Connect for doctors (issue 16); null: only the simulated CPS card login. */
  psc: OidcSettings | null;
  /** The insurer's single sign-on for agents; null: only the simulated agent picker. */
  agentOidc: (OidcSettings & { idClaim: string }) | null;
}

/** One OpenID provider the app signs people in with: its discovery document, this app's client, its callback. */
export type OidcSettings = {
  discoveryUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Where the provider sends the browser back after its own logout. */
  postLogoutRedirectUri: string;
  /** Plain http (a provider on loopback, outside production only). */
  insecure: boolean;
};

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/**
 * An OpenID provider's settings: all three or none (half a configuration refuses to start); https only in production,
 * plain http on loopback outside it (tests and demos running a local provider).
 */
function oidcSettings(
  env: NodeJS.ProcessEnv,
  prefix: "PSC" | "AGENT_OIDC",
  production: boolean,
  publicUrl: string,
  paths: { callback: string; loggedOut: string },
): OidcSettings | null {
  const names = [`${prefix}_DISCOVERY_URL`, `${prefix}_CLIENT_ID`, `${prefix}_CLIENT_SECRET`];
  const [discoveryUrl, clientId, clientSecret] = names.map((name) => env[name] || undefined);
  const missing = names.filter((name) => !env[name]);
  if (missing.length === names.length) return null;
  if (missing.length > 0)
    throw new Error(`${prefix}: configuration incomplète, ${missing.join(", ")} manquant${missing.length > 1 ? "s" : ""} (renseigner ${names.join(", ")}, ou aucun)`);
  let url: URL;
  try {
    url = new URL(discoveryUrl!);
  } catch {
    throw new Error(`${prefix}_DISCOVERY_URL n'est pas une adresse valide`);
  }
  const insecure = url.protocol === "http:";
  if (url.protocol !== "https:" && !(insecure && !production && LOOPBACK.test(url.hostname))) {
    throw new Error(
      production
        ? `${prefix}_DISCOVERY_URL doit être en https en production`
        : `${prefix}_DISCOVERY_URL doit être en https (http n'est admis que sur la boucle locale, hors production)`,
    );
  }
  if (!url.pathname.includes("/.well-known/")) throw new Error(`${prefix}_DISCOVERY_URL doit être l'adresse complète du document de découverte (…/.well-known/…)`);
  return {
    discoveryUrl: url.href,
    clientId: clientId!,
    clientSecret: clientSecret!,
    redirectUri: `${publicUrl}${paths.callback}`,
    postLogoutRedirectUri: `${publicUrl}${paths.loggedOut}`,
    insecure,
  };
}

/** A whole number within bounds, or the French line the server refuses to start with; unset: the default. */
function strictInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, unit: string): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = /^[0-9]{1,6}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!(n >= min && n <= max)) throw new Error(`${name} doit être un nombre entier de ${unit}, de ${min} à ${max}`);
  return n;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The bucket settings: STORAGE_S3_BUCKET chooses S3; STORAGE_S3_REGION is then required, STORAGE_S3_ENDPOINT
 * (a provider other than AWS) optional, https in production. Credentials are the AWS SDK's (its standard chain), but
 * one access key half given is refused here rather than met at the first upload. Half a configuration refuses to start.
 */
function s3Settings(env: NodeJS.ProcessEnv, production: boolean): S3Settings | null {
  const bucket = env.STORAGE_S3_BUCKET || undefined;
  const region = env.STORAGE_S3_REGION || undefined;
  const endpoint = env.STORAGE_S3_ENDPOINT || undefined;
  if (!bucket) {
    if (region || endpoint) throw new Error("STORAGE_S3: configuration incomplète, STORAGE_S3_BUCKET manquant (renseigner STORAGE_S3_BUCKET et STORAGE_S3_REGION, ou aucun)");
    return null;
  }
  if (!region) throw new Error("STORAGE_S3: configuration incomplète, STORAGE_S3_REGION manquant (la région du compartiment, même pour un hébergeur autre qu'AWS)");
  if (!BUCKET_NAME.test(bucket) || bucket.includes(".."))
    throw new Error("STORAGE_S3_BUCKET n'est pas un nom de compartiment valide (3 à 63 caractères : minuscules, chiffres, points, tirets)");
  const keys = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
  const missingKeys = keys.filter((name) => !env[name]);
  if (missingKeys.length === 1)
    throw new Error(
      `STORAGE_S3: identifiants incomplets, ${missingKeys[0]} manquant (renseigner ${keys.join(" et ")}, ou aucun des deux pour la chaîne d'identifiants du SDK AWS)`,
    );
  if (endpoint) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new Error("STORAGE_S3_ENDPOINT n'est pas une adresse valide");
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && !production))
      throw new Error(production ? "STORAGE_S3_ENDPOINT doit être en https en production" : "STORAGE_S3_ENDPOINT doit être une adresse http ou https");
  }
  return { bucket, region, endpoint };
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
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, "");
  const production = nodeEnv === "production";
  const retentionMonths = strictInt(env, "RETENTION_MONTHS", 24, 1, 1200, "mois");
  const retentionNoticeDays = strictInt(env, "RETENTION_NOTICE_DAYS", 30, 1, 365, "jours");
  if (retentionNoticeDays >= retentionMonths * 28) throw new Error("RETENTION_NOTICE_DAYS doit être plus court que RETENTION_MONTHS");
  const psc = oidcSettings(env, "PSC", production, publicUrl, { callback: "/ps/psc/callback", loggedOut: "/ps/psc/deconnecte" });
  const agentOidc = oidcSettings(env, "AGENT_OIDC", production, publicUrl, { callback: "/bo/oidc/callback", loggedOut: "/bo/oidc/deconnecte" });
  const storageS3 = s3Settings(env, production);
  return {
    env: nodeEnv,
    port,
    workers: int(env.WEB_CONCURRENCY, 1),
    seedDemo: env.SEED_DEMO !== "false",
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: env.DATABASE_SCHEMA || undefined,
    sqliteFile: path.resolve(env.SQLITE_FILE ?? path.join(dataDir, "echanges.sqlite3")),
    sqliteConnections: int(env.SQLITE_CONNECTIONS, 4),
    compression: env.COMPRESSION !== "off",
    storageDir: path.resolve(env.STORAGE_DIR ?? path.join(dataDir, "attachments")),
    storageS3,
    outboxDir: path.resolve(env.OUTBOX_DIR ?? path.join(dataDir, "outbox")),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM ?? "Échanges médicaux sécurisés <ne-pas-repondre@echanges.example>",
    publicUrl,
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
    retentionMonths,
    retentionNoticeDays,
    clamavCommand: env.CLAMAV_COMMAND || undefined,
    clamavDatabase: env.CLAMAV_DATABASE || undefined,
    uploadTempPerUserBytes: int(env.UPLOAD_TEMP_PER_USER_MB, 2 * Math.ceil(REQUEST_MAX_BYTES / MB)) * MB,
    bodyMinBytesPerSecond: int(env.BODY_MIN_BYTES_PER_SECOND, 1024),
    bodyRateWindowMs: int(env.BODY_RATE_WINDOW_SECONDS, 10) * 1000,
    headersTimeoutMs: int(env.HEADERS_TIMEOUT_SECONDS, 20) * 1000,
    requestTimeoutMs: int(env.REQUEST_TIMEOUT_SECONDS, 600) * 1000,
    deadlinePassMs: int(env.DEADLINE_PASS_SECONDS, 180) * 1000,
    psc,
    agentOidc: agentOidc ? { ...agentOidc, idClaim: env.AGENT_OIDC_ID_CLAIM || "sub" } : null,
  };
}
