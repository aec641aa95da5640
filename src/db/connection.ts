import fs from "node:fs";
import path from "node:path";
import knexFactory, { type Knex } from "knex";
import type { Config } from "../config.js";
import { migrationSource } from "../../db/migrations/index.js";
import { afterConnect, sqlitePooledClient } from "./dialect.js";

type DbSettings = Pick<Config, "databaseUrl" | "sqliteFile" | "databaseSchema"> & { sqliteConnections?: number };

export function knexConfig(config: DbSettings): Knex.Config {
  const migrations = { migrationSource };
  if (config.databaseUrl) {
    return {
      client: "pg",
      connection: config.databaseUrl,
      searchPath: config.databaseSchema ? [config.databaseSchema] : undefined,
      pool: { min: 0, max: 10 },
      migrations,
    };
  }
  fs.mkdirSync(path.dirname(config.sqliteFile), { recursive: true });
  return {
    // The sqlite3 driver's client with immediate, queued transactions (src/db/dialect.ts); readers side by side (WAL).
    client: sqlitePooledClient() as unknown as typeof Knex.Client,
    connection: { filename: config.sqliteFile },
    useNullAsDefault: true,
    pool: { min: 1, max: Math.max(1, config.sqliteConnections ?? 4), afterCreate: afterConnect },
    migrations,
  };
}

export type Db = Knex;

/** A row as Knex returns it from a join: columns named by the query, typed by the function that reads it. */
// biome-ignore lint/suspicious/noExplicitAny: Knex rows are untyped; each reader maps one to a typed value at once.
export type Row = Record<string, any>;

export function connect(config: DbSettings): Db {
  return knexFactory(knexConfig(config));
}
