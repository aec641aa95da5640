import pino, { type Logger } from "pino";

// A NIR (13 characters, Corsican 2A/2B allowed, optionally followed by its key) anywhere in a log value.
const NIR_LIKE = /\b[12]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2A|2B)\s?\d{3}\s?\d{3}(?:\s?\d{2})?\b/gi;

export function redactNir(value: unknown): unknown {
  if (typeof value === "string") return value.replace(NIR_LIKE, "[NIR]");
  if (Array.isArray(value)) return value.map(redactNir);
  if (value instanceof Error) return { type: value.name, message: redactNir(value.message), stack: redactNir(value.stack) };
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactNir(v)]));
  }
  return value;
}

/** One JSON line an event; anything that looks like a NIR is replaced before it is written. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      formatters: { log: (obj) => redactNir(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === "string" ? (redactNir(a) as string) : a)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
