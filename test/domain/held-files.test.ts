import { describe, expect, it } from "vitest";
import { HELD_MAX_AGE_MS, holdFiles, readHeldFiles, signHeldFiles } from "../../src/domain/conversations/held-files.js";

const SECRET = "a-test-secret-of-enough-length-for-hmac";
const file = { storageKey: "0123456789abcdef0123456789abcdef", originalName: "compte-rendu.pdf", kind: "pdf" as const, size: 1234, sha256: "ab" };

describe("files held by a form between two posts", () => {
  it("come back for the agent who uploaded them", () => {
    const held = holdFiles([file]);
    expect(readHeldFiles(SECRET, "agent:1", signHeldFiles(SECRET, "agent:1", held))).toEqual(held);
  });

  it("cannot be claimed by another agent with the same field", () => {
    expect(readHeldFiles(SECRET, "agent:2", signHeldFiles(SECRET, "agent:1", holdFiles([file])))).toEqual([]);
  });

  it("cannot be named by a field the server did not sign", () => {
    const token = signHeldFiles(SECRET, "agent:1", holdFiles([file]));
    const forged = Buffer.from(JSON.stringify({ a: "agent:1", f: [{ k: "ffffffffffffffffffffffffffffffff", n: "x.pdf", t: "pdf", s: 1, h: "", at: Date.now() }] })).toString(
      "base64url",
    );
    expect(readHeldFiles(SECRET, "agent:1", `${forged}.${token.split(".")[1]}`)).toEqual([]);
    expect(readHeldFiles("another-secret-another-secret-xx", "agent:1", token)).toEqual([]);
  });

  it("are dropped once the orphan sweep may have removed them, and when ticked Retirer", () => {
    const old = holdFiles([file], Date.now() - HELD_MAX_AGE_MS - 1);
    expect(readHeldFiles(SECRET, "agent:1", signHeldFiles(SECRET, "agent:1", old))).toEqual([]);
    const token = signHeldFiles(SECRET, "agent:1", holdFiles([file]));
    expect(readHeldFiles(SECRET, "agent:1", token, [file.storageKey])).toEqual([]);
  });

  it("no file held, no field", () => {
    expect(signHeldFiles(SECRET, "agent:1", [])).toBe("");
    expect(readHeldFiles(SECRET, "agent:1", "")).toEqual([]);
  });
});
