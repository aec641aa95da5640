import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: createLogger("info", stream), lines };
}

describe("structured logs", () => {
  it("write one JSON object per line", () => {
    const { logger, lines } = capture();
    logger.info({ method: "GET", route: "/ps/conversations/:id", status: 200 }, "request");
    logger.warn("second");
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, method: "GET", route: "/ps/conversations/:id", status: 200, msg: "request" });
  });

  it("mask anything that looks like a NIR, with or without key, spaces or Corsican département, in messages and fields", () => {
    const { logger, lines } = capture();
    logger.info("patient 1700469387111 selected");
    logger.info({ search: "2 85 11 75 123 045 45", nested: { nir: "278052A012034" } }, "search");
    logger.error({ err: new Error("no patient 170046938711172") }, "failed");
    const all = lines.join("\n");
    for (const nir of ["1700469387111", "85 11 75 123", "278052A012034", "170046938711172"]) expect(all).not.toContain(nir);
    expect(all.match(/\[NIR\]/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it("log an error by its class, code, constraint and stack frames, never its message (Knex puts the bound values there)", () => {
    const { logger, lines } = capture();
    const knexLike = Object.assign(new Error("insert into `messages` (`body`) values ('douleurs BUNYEL') - SQLITE_CONSTRAINT: UNIQUE constraint failed"), {
      code: "SQLITE_CONSTRAINT",
    });
    const pgLike = Object.assign(new Error("duplicate key value"), {
      code: "23505",
      constraint: "messages_submission_key_unique",
      detail: "Key (submission_key)=(abc) already exists.",
    });
    logger.error({ err: knexLike }, "request failed");
    logger.warn({ err: pgLike }, "failed");
    logger.error(new TypeError("Cannot read BUNYEL"));
    const all = lines.join("\n");
    expect(all).not.toMatch(/douleurs|BUNYEL|insert into|duplicate key|already exists/);
    expect(JSON.parse(lines[0]!).err).toMatchObject({ type: "Error", code: "SQLITE_CONSTRAINT" });
    expect(JSON.parse(lines[0]!).err.frames[0]).toMatch(/^at /);
    expect(JSON.parse(lines[1]!).err).toMatchObject({ type: "Error", code: "23505", constraint: "messages_submission_key_unique" });
    expect(JSON.parse(lines[2]!)).toMatchObject({ type: "TypeError" });
  });

  it("leave other numbers alone (ids, N°AM, FINESS, dates)", () => {
    const { logger, lines } = capture();
    logger.info({ conversation: 123456, nam: "991101197", finess: "010012345", at: "2019-04-15T13:14:00.000Z" }, "ok");
    expect(JSON.parse(lines[0]!)).toMatchObject({ conversation: 123456, nam: "991101197", finess: "010012345" });
  });
});
