import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EventEmitter } from "node:events";
import type { Request } from "express";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { CappedDiskStorage } from "../../src/web/middleware/upload.js";
import { MAX_FILE_BYTES } from "../../src/domain/attachments/rules.js";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-capped-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Feeds a file part the way a fast network can: chunks keep coming while the disk is still writing earlier ones. */
function receive(totalBytes: number) {
  const stream = Object.assign(new EventEmitter(), { pause() {}, resume() {} });
  const storage = new CappedDiskStorage(dir);
  const done = new Promise<{ err: unknown; info?: Partial<Express.Multer.File> }>((resolve) => {
    storage._handleFile({} as Request, { stream } as unknown as Express.Multer.File, (err, info) => resolve({ err, info }));
  });
  const chunk = Buffer.alloc(64 * 1024, 1);
  setImmediate(() => {
    for (let sent = 0; sent < totalBytes; sent += chunk.length) stream.emit("data", chunk.subarray(0, Math.min(chunk.length, totalBytes - sent)));
    stream.emit("end");
  });
  return done;
}

it("a file over 10 MB arriving faster than the disk writes is only counted, its partial copy removed, and no error escapes", async () => {
  const escaped: unknown[] = [];
  const onError = (err: unknown) => escaped.push(err);
  process.on("uncaughtException", onError);
  try {
    for (let round = 0; round < 5; round++) {
      const { err, info } = await receive(MAX_FILE_BYTES + 64 * 1024);
      expect(err).toBeFalsy();
      expect(info?.path).toBe("");
      expect(info?.size).toBe(MAX_FILE_BYTES + 64 * 1024);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(escaped).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([]);
  } finally {
    process.off("uncaughtException", onError);
  }
});

it("a file of exactly 10 MB is written whole, with its SHA-256", async () => {
  const { err, info } = await receive(MAX_FILE_BYTES);
  expect(err).toBeFalsy();
  expect(fs.statSync(info!.path!).size).toBe(MAX_FILE_BYTES);
  expect(info?.filename).toMatch(/^[0-9a-f]{64}$/);
  fs.rmSync(info!.path!);
});

it("a part cut off at once (malformed body) reports its error once and leaves no file behind", async () => {
  for (let round = 0; round < 20; round++) {
    const stream = Object.assign(new EventEmitter(), { pause() {}, resume() {} });
    const calls: unknown[] = [];
    new CappedDiskStorage(dir)._handleFile({} as Request, { stream } as unknown as Express.Multer.File, (err) => calls.push(err));
    stream.emit("error", new Error("Unexpected end of form"));
    // The callback comes once the temporary file is closed and removed: wait for it (a loaded machine is slow), then
    // leave time for a wrong second call.
    await vi.waitFor(() => expect(calls.length).toBeGreaterThan(0), { timeout: 5_000, interval: 10 });
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(1);
    expect(String(calls[0])).toContain("Unexpected end of form");
  }
  expect(fs.readdirSync(dir)).toEqual([]);
});
