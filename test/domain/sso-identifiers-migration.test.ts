import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isUniqueViolation } from "../../src/db/dialect.js";
import { seededDomain, type DomainFixture } from "./helpers.js";

let f: DomainFixture;
beforeAll(async () => {
  f = await seededDomain();
});
afterAll(async () => {
  await f?.close();
});

const MIGRATION = "20261208010000_sso_identifiers";

describe("the SSO identifiers migration (issue 16)", () => {
  it("gives every demo practitioner an RPPS and every agent an SSO id, each unique", async () => {
    const rpps = (await f.db("practitioners").pluck("rpps")) as string[];
    expect(rpps.every((r) => /^\d{11}$/.test(r))).toBe(true);
    expect(new Set(rpps).size).toBe(rpps.length);
    const ssoIds = (await f.db("agents").pluck("sso_id")) as string[];
    expect(ssoIds).toContain("anna.ain");
    const [one, two] = (await f.db("practitioners").orderBy("id").limit(2).pluck("id")) as number[];
    const taken = await f
      .db("practitioners")
      .where({ id: two })
      .update({ rpps: rpps[0] })
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(isUniqueViolation(taken)).toBe(true);
    // Several practitioners without RPPS: unique, but nullable.
    await f.db("practitioners").whereIn("id", [one!, two!]).update({ rpps: null });
    expect(Number((await f.db("practitioners").whereNull("rpps").count<{ n: number }[]>({ n: "*" }))[0]!.n)).toBe(2);
  });

  it("rolls back (both columns gone, the rows kept) and applies again", async () => {
    const doctors = (await f.db("practitioners").pluck("id")).length;
    await f.db.migrate.down({ name: MIGRATION });
    expect(await f.db.schema.hasColumn("practitioners", "rpps")).toBe(false);
    expect(await f.db.schema.hasColumn("agents", "sso_id")).toBe(false);
    expect((await f.db("practitioners").pluck("id")).length).toBe(doctors);
    await f.db.migrate.up({ name: MIGRATION });
    expect(await f.db.schema.hasColumn("practitioners", "rpps")).toBe(true);
    expect(await f.db.schema.hasColumn("agents", "sso_id")).toBe(true);
  });
});
