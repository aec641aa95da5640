import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Db } from "../../src/db/connection.js";
import { prepared } from "../../src/db/dialect.js";

/**
 * SQLite with several connections per process (issue 17 §3): readers side by side under WAL, and writers that never
 * fail with SQLITE_BUSY — two "processes" (two pools on one file) running transactions that read, then write, at once.
 * A deferred `BEGIN` would fail there: the second reader cannot upgrade once the first has written.
 */
describe.skipIf(Boolean(process.env.DATABASE_URL))("SQLite: a pool of connections, immediate transactions", () => {
  let dir: string;
  let a: Db;
  let b: Db;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-pool-"));
    const file = path.join(dir, "pool.sqlite3");
    a = connect({ databaseUrl: undefined, databaseSchema: undefined, sqliteFile: file, sqliteConnections: 4 });
    b = connect({ databaseUrl: undefined, databaseSchema: undefined, sqliteFile: file, sqliteConnections: 4 });
    await a.schema.createTable("counters", (t) => {
      t.integer("id").primary();
      t.integer("n").notNullable();
    });
    await a.schema.createTable("entries", (t) => {
      t.increments("id");
      t.integer("seen").notNullable();
    });
    await a("counters").insert({ id: 1, n: 0 });
  });

  afterAll(async () => {
    await a.destroy();
    await b.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("read-then-write transactions from two pools at once all commit, none lost, none refused busy", async () => {
    const bump = (db: Db) =>
      db.transaction(async (trx) => {
        const row = await trx("counters").where({ id: 1 }).first("n");
        await trx("entries").insert({ seen: row.n });
        await trx("counters")
          .where({ id: 1 })
          .update({ n: row.n + 1 });
      });
    // Plain writes outside any transaction at the same time, and reads on the other connections.
    const plain = (db: Db, i: number) => db("entries").insert({ seen: -1 - i });
    const reads = (db: Db) => db("entries").count<{ n: number }[]>({ n: "*" });
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i += 1) work.push(bump(i % 2 ? a : b), plain(i % 2 ? b : a, i), reads(a), reads(b));
    const outcomes = await Promise.allSettled(work);
    expect(outcomes.filter((o) => o.status === "rejected").map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    // Each transaction saw the previous one's count: the counter is exact and every value was seen once.
    expect((await a("counters").where({ id: 1 }).first("n")).n).toBe(30);
    const seen = (await b("entries").where("seen", ">=", 0).orderBy("seen").pluck("seen")) as number[];
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(Number((await a("entries").count<{ n: number }[]>({ n: "*" }))[0]!.n)).toBe(60);
  });

  it("a prepared read answers with the rows of the moment, on every connection, with its bindings", async () => {
    const q = (db: Db, min: number) => prepared(db, db("entries").where("seen", ">=", min).count<{ n: number }[]>({ n: "*" }), "test_entries_from");
    const before = await Promise.all([q(a, 0), q(a, 10), q(b, 25), q(a, 0)]);
    expect(before.map((r) => Number(r[0]!.n))).toEqual([30, 20, 5, 30]);
    await b("entries").insert({ seen: 100 });
    expect(Number((await q(a, 0))[0]!.n)).toBe(31);
    expect(Number((await q(a, 99))[0]!.n)).toBe(1);
  });

  it("a read that cannot be prepared rejects with SQLite's message, and the connection goes on answering", async () => {
    // Without a callback on prepare, the driver emits an unhandled error and drops the call: the query would hang.
    await expect(a("no_such_table").select("id")).rejects.toThrow(/no such table: no_such_table/);
    await expect(a.raw("select nonsense from entries")).rejects.toThrow(/no such column: nonsense/);
    await expect(a.raw("select from")).rejects.toThrow(/syntax error/);
    // Every connection of the pool still serves reads and writes after each failure.
    const counts = await Promise.all([1, 2, 3, 4, 5, 6].map(() => a("entries").count<{ n: number }[]>({ n: "*" })));
    expect(new Set(counts.map((r) => Number(r[0]!.n))).size).toBe(1);
    await a("counters").where({ id: 1 }).increment("n", 0);
  });

  it("a kept read sees a column added after it was prepared, and fails cleanly once its table is gone", async () => {
    await a.schema.createTable("later", (t) => {
      t.integer("id").primary();
    });
    await a("later").insert({ id: 1 });
    const all = () => a.raw("select * from later order by id");
    expect(await Promise.all([all(), all(), all(), all()])).toEqual(Array(4).fill([{ id: 1 }]));
    await a.schema.alterTable("later", (t) => {
      t.text("label");
    });
    await a("later").insert({ id: 2, label: "deux" });
    const after = await Promise.all([all(), all(), all(), all()]);
    for (const rows of after)
      expect(rows).toEqual([
        { id: 1, label: null },
        { id: 2, label: "deux" },
      ]);
    await a.schema.dropTable("later");
    for (let i = 0; i < 4; i += 1) await expect(all()).rejects.toThrow(/no such table: later/);
  });

  it("many different read texts stay correct past the statements kept per connection (the oldest are let go)", async () => {
    // 600 texts on 4 connections: beyond the 200 kept on each, statements are finalized while others run.
    const answers = await Promise.all(Array.from({ length: 600 }, (_, i) => a.raw(`select ${i} as k, count(*) as n from entries where seen >= ?`, [i % 40])));
    const seen = (await a("entries").pluck("seen")) as number[];
    answers.forEach((rows, i) => {
      expect(rows).toEqual([{ k: i, n: seen.filter((s) => s >= i % 40).length }]);
    });
  });
  it("a named read answers through JSON texts only when they give exactly its rows: text, integers, nulls, in order", async () => {
    // One connection, so that what it learnt can be read back (the JSON form replaces the driver's row objects).
    const one = connect({ databaseUrl: undefined, databaseSchema: undefined, sqliteFile: path.join(dir, "pool.sqlite3"), sqliteConnections: 1 });
    try {
      await one.schema.createTable("shapes", (t) => {
        t.integer("id").primary();
        t.text("label");
        t.bigInteger("n");
        t.float("r");
        t.binary("b");
      });
      await one("shapes").insert([
        { id: 1, label: 'Élodie « l\'an » "2026" 🩺', n: 9_007_199_254_740_991, r: 1 / 3, b: Buffer.from([0, 255, 1]) },
        { id: 2, label: null, n: -42, r: null, b: null },
        { id: 3, label: "\\ \n\t{json}", n: 0, r: 2.5, b: null },
      ]);
      const conn = await (one.client as { acquireConnection(): Promise<{ __asJson?: Map<string, string | null> }> }).acquireConnection();
      await (one.client as { releaseConnection(c: unknown): Promise<void> }).releaseConnection(conn);
      const learnt = (q: { toSQL(): { sql: string } }) => conn.__asJson?.get(q.toSQL().sql);
      const check = async (name: string, build: () => ReturnType<Db>) => {
        const plain = await one.raw(build().toSQL().sql, build().toSQL().bindings as never);
        for (let i = 0; i < 3; i += 1) expect(await prepared(one, build(), name)).toEqual(plain);
        return learnt(build());
      };
      // Text of every kind, integers up to 2^53 − 1 and nulls, under names that need quoting: through JSON.
      const texts = () => one("shapes").select("id", 'label as it\'s "quoted"', "n").orderBy("id", "desc");
      expect(await check("test_texts", texts)).toMatch(/^SELECT json_object\(/);
      // A REAL (JSON would round 1/3) or a BLOB: the plain rows, exact.
      expect(await check("test_real", () => one("shapes").select("id", "r").orderBy("id"))).toBeNull();
      expect(await check("test_blob", () => one("shapes").select("id", "b").orderBy("id"))).toBeNull();
      expect((await prepared(one, one("shapes").select("r").where({ id: 1 }), "test_third"))[0].r).toBe(1 / 3);
      // Two columns of one name (the driver keeps the last): the JSON rows differ, so the read stays plain.
      const twins = () => one("shapes as s").join("shapes as t", "t.id", "s.id").select("s.id", one.raw("s.id + 10 as id")).orderBy("s.id");
      expect(await check("test_twins", twins)).toBeNull();
      expect((await prepared(one, twins(), "test_twins")).map((r: { id: number }) => r.id)).toEqual([11, 12, 13]);
      // Through JSON, the rows of the moment, in order.
      await one("shapes").insert({ id: 4, label: "quatre", n: 4 });
      expect((await prepared(one, texts(), "test_texts")).map((r: { id: number }) => r.id)).toEqual([4, 3, 2, 1]);
    } finally {
      await one.destroy();
    }
  });
});
