import pino, { type Logger } from "pino";

// A NIR (13 characters, Corsican 2A/2B allowed, optionally followed by its key) anywhere in a log value.
const NIR_LIKE = /\b[12]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2A|2B)\s?\d{3}\s?\d{3}(?:\s?\d{2})?\b/gi;

/** What is logged of an error: its class, its code and where it was thrown — see errorFacts. */
export type ErrorFacts = { type: string; code?: string; constraint?: string; frames?: string[] };

const SAFE_TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * An error as the log may show it: its class (`Error`, `TypeError`, `NotFound`…), its code
 * (`SQLITE_CONSTRAINT`, a PostgreSQL SQLSTATE such as `23505`, `ENOENT`), the constraint a database named, and
 * the stack frames (file:line). Never its message: Knex puts the query and its bound values there (on SQLite
 * the very subject and body typed), PostgreSQL its `detail` (`Key (…)=(…)`), a file system error a path.
 */
export function errorFacts(value: unknown): ErrorFacts {
  if (!value || typeof value !== "object") return { type: typeof value };
  const e = value as { name?: unknown; code?: unknown; constraint?: unknown; stack?: unknown; type?: unknown; frames?: unknown };
  const facts: ErrorFacts = {
    type: value instanceof Error ? value.constructor?.name || String(e.name) : typeof e.type === "string" && SAFE_TOKEN.test(e.type) ? e.type : "Object",
  };
  if ((typeof e.code === "string" || typeof e.code === "number") && SAFE_TOKEN.test(String(e.code))) facts.code = String(e.code);
  if (typeof e.constraint === "string" && SAFE_TOKEN.test(e.constraint)) facts.constraint = e.constraint;
  // Frames only: the first line of a stack repeats the message.
  const frames =
    typeof e.stack === "string"
      ? e.stack.split("\n").filter((l) => /^\s+at /.test(l))
      : Array.isArray(e.frames)
        ? e.frames.filter((l): l is string => typeof l === "string" && /^\s*at /.test(l))
        : [];
  if (frames.length) facts.frames = frames.slice(0, 12).map((l) => l.trim());
  return facts;
}

export function redactNir(value: unknown): unknown {
  if (typeof value === "string") return value.replace(NIR_LIKE, "[NIR]");
  if (Array.isArray(value)) return value.map(redactNir);
  if (value instanceof Error) return redactNir(errorFacts(value));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactNir(k === "err" || k === "error" ? errorFacts(v) : v)]));
  }
  return value;
}

/**
 * One JSON line an event. An error (`err`) is logged by its facts only (errorFacts), and anything that looks
 * like a NIR is replaced before it is written. Callers log ids, route patterns and codes, never a text.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      serializers: { err: errorFacts, error: errorFacts },
      formatters: { log: (obj) => redactNir(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === "string" ? (redactNir(a) as string) : a instanceof Error ? errorFacts(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
