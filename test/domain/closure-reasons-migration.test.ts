import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CLOSURE_REASONS } from "../../src/domain/closure-reasons/defaults.js";
import { seededDomain, type DomainFixture } from "./helpers.js";

let f: DomainFixture;
beforeAll(async () => {
  f = await seededDomain();
});
afterAll(async () => {
  await f?.close();
});

const MIGRATION = "20261205020000_closure_reasons";

describe("the closure reasons migration (issue 14 §3)", () => {
  it("rolls back (table and thread columns gone, the threads kept) and, up again, gives every ELSM already there the default list", async () => {
    const threads = Number((await f.db("conversations").count<{ n: number }[]>({ n: "*" }))[0]!.n);
    await f.db.migrate.down({ name: MIGRATION });
    expect(await f.db.schema.hasTable("closure_reasons")).toBe(false);
    expect(await f.db.schema.hasColumn("conversations", "closed_reason_label")).toBe(false);
    expect(await f.db.schema.hasColumn("conversations", "closed_reason_text")).toBe(false);
    expect(Number((await f.db("conversations").count<{ n: number }[]>({ n: "*" }))[0]!.n)).toBe(threads);
    await f.db.migrate.up({ name: MIGRATION });
    const elsms = (await f.db("elsms").orderBy("id").pluck("id")) as number[];
    expect(elsms.length).toBeGreaterThanOrEqual(3);
    for (const elsmId of elsms) {
      const labels = await f.db("closure_reasons").where({ elsm_id: elsmId }).orderBy("position").pluck("label");
      expect(labels).toEqual([...DEFAULT_CLOSURE_REASONS]);
    }
    expect(await f.db.schema.hasColumn("conversations", "closed_reason_label")).toBe(true);
  });
});
