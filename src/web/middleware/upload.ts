import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Transform } from "node:stream";
import type { Request, RequestHandler, Response } from "express";
import multer from "multer";
import { actorKey } from "../../domain/actor.js";
import { isStorageFault } from "../../domain/errors.js";
import { FIELD_MAX_BYTES, MAX_FILE_BYTES, MAX_FILES_RECEIVED, REQUEST_MAX_BYTES } from "../../domain/attachments/rules.js";
import { csrfValid } from "./csrf.js";
import { HttpError } from "./errors.js";
import { uploadedBytes } from "./upload-memory.js";
import type { UploadedFile } from "../../domain/attachments/service.js";

/**
 * Writes each file part to disk while counting: past 10 MB it stops writing and only drains the
 * rest, so the request goes on and every other field and file of the form is kept (nothing lost).
 */
/** What the disk engine tells the request it writes for: bytes taken from the user's share, a part past 10 MB, a write error. */
export type DiskHooks = { take(bytes: number): boolean; oversized(): void; failed(err: unknown): void; answered(): boolean };

export class CappedDiskStorage implements multer.StorageEngine {
  constructor(
    private readonly dir: string,
    private readonly hooks?: DiskHooks,
  ) {}

  _handleFile(req: Request, file: Express.Multer.File, cb: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    const tmpPath = path.join(this.dir, crypto.randomBytes(16).toString("hex"));
    const out = fs.createWriteStream(tmpPath, { flags: "wx" });
    const hash = crypto.createHash("sha256");
    let size = 0;
    let tooLarge = false;
    let failed = false;
    let settled = false;
    let waitingForDisk = false;
    /** Multer's callback, called once whatever happens. */
    const settle = (err: unknown, info?: Partial<Express.Multer.File>) => {
      if (settled) return;
      settled = true;
      cb(err, info);
    };
    /** Stops writing and removes the partial file once it is closed (removed earlier, a late open would recreate it). */
    const discard = (then: () => void) => {
      out.destroy();
      const remove = () => fs.rm(tmpPath, { force: true }, then);
      if (out.closed) remove();
      else out.once("close", remove);
    };
    const fail = (err: unknown) => {
      if (failed || settled) return;
      failed = true;
      this.hooks?.failed(err);
      file.stream.resume();
      discard(() => settle(err));
    };
    // A write still pending when the file turns out too large ends in ERR_STREAM_DESTROYED: expected, not a failure.
    out.on("error", (err) => {
      if (!tooLarge) fail(err);
    });
    file.stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      uploadedBytes(chunk.length);
      if (tooLarge || failed) return;
      if (size > MAX_FILE_BYTES) {
        tooLarge = true;
        discard(() => undefined);
        file.stream.resume();
        this.hooks?.oversized();
        return;
      }
      if (this.hooks && !this.hooks.take(chunk.length)) {
        fail(new Error("temporary share used up"));
        return;
      }
      hash.update(chunk);
      if (!out.write(chunk) && !waitingForDisk) {
        waitingForDisk = true;
        file.stream.pause();
        out.once("drain", () => {
          waitingForDisk = false;
          file.stream.resume();
        });
      }
    });
    file.stream.on("error", fail);
    // A request stopped at a limit, or cut by its client, never ends this part: its partial file is removed then.
    let ended = false;
    const closed = () => {
      // 'close' also follows a body received whole, possibly before busboy has ended this part: only a cut request fails it.
      if (!ended && !req.complete) fail(new Error("request closed before the part ended"));
    };
    if (typeof req.once === "function") req.once("close", closed);
    file.stream.on("end", () => {
      ended = true;
      if (typeof req.off === "function") req.off("close", closed);
      if (failed) return;
      if (tooLarge) return settle(null, { size, path: "", filename: "" });
      // Done once the file is closed: an error while flushing or closing goes through fail() instead.
      out.once("close", () => {
        if (failed) return;
        // Written after the request was answered (it was stopped at a limit): nobody will take it.
        if (this.hooks?.answered()) return discard(() => settle(null, { size, path: "", filename: "" }));
        settle(null, { size, path: tmpPath, filename: hash.digest("hex") });
      });
      out.end();
    });
  }

  _removeFile(_req: Request, file: Express.Multer.File, cb: (error: Error | null) => void): void {
    if (!file.path) {
      cb(null);
      return;
    }
    fs.rm(file.path, { force: true }, () => cb(null));
  }
}

/** Why a compose post was not received whole; the form comes back with what was (see readComposeForm). */
export type UploadProblem =
  /** More than REQUEST_MAX_BYTES (5 × 10 MB + the form): reading stopped there, or at a part past 10 MB when the declared length was over. */
  | { kind: "too-large" }
  /** A text field over FIELD_MAX_BYTES: what was received of it is kept. */
  | { kind: "field"; field: string }
  /** A part header over busboy's 16 KB, or a body that is not well-formed multipart. */
  | { kind: "header" }
  /** This user's uploads in progress already hold their share of the temporary folder. */
  | { kind: "busy" }
  /** The temporary folder could not be written (disk full, read-only…): answered as any storage fault (503, text kept). */
  | { kind: "storage"; cause: unknown }
  /** No valid CSRF token before the first file part: nothing was written (the guard answers 403). */
  | { kind: "csrf" }
  /** Nobody signed in for this side: the fields before the first file were read (the rescue or the login answers). */
  | { kind: "not-signed-in" };

type UploadState = { problem: UploadProblem | null; skipped: string[] };
const states = new WeakMap<Request, UploadState>();

/** Why this post was not received whole, if it was not. */
export function uploadProblem(req: Request): UploadProblem | null {
  return states.get(req)?.problem ?? null;
}

/** Multer 2.5's options, with the hook it feeds busboy through (not in @types/multer yet). */
type MulterOptions = multer.Options & { streamHandler(req: Request, busboy: NodeJS.WritableStream): void };

/** Temporary bytes held by each signed-in user's uploads in progress, in this process. */
const tempInUse = new Map<string, number>();

/**
 * Parses the multipart body of a route that takes files (mounted on those routes only, after the session):
 * - nobody signed in for this side: the fields before the first file part, nothing written, then on (the
 *   expired-session rescue keeps the text; the guard sends to the login page);
 * - signed in: the CSRF token is checked at the first file part, before a byte of it is written;
 * - files land in the storage's temporary folder, 10 MB each at most (a bigger part is drained, counted, refused),
 *   MAX_FILES_RECEIVED at most (others counted, refused), within the user's share of the temporary folder;
 * - a request past REQUEST_MAX_BYTES, a field past FIELD_MAX_BYTES, a broken part header: reading stops there and
 *   the route answers with what was received (`uploadProblem`); the connection is closed a moment after the answer
 *   (bodyGuard: time for the client to read it — closed at once, a browser may show a reset instead).
 * What the handler did not move into the store is deleted once it has answered — when the client has already
 * gone, only then (the handler may still be moving the files).
 */
export function fileUploads(tmpDir: string, tempPerUserBytes: number): RequestHandler {
  return (req, res, next) => {
    if (!(req.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data")) return next();
    const user = req.session?.user;
    const side = req.path.startsWith("/bo/") ? "agent" : "ps";
    const owner = user?.kind === side ? actorKey(user) : null;
    const state: UploadState = { problem: null, skipped: [] };
    states.set(req, state);
    let continued = false;
    let tempBytes = 0;
    let received = 0;
    let filesWritten = 0;
    const declared = Number(req.get("content-length") ?? Number.NaN);

    const proceed = (err?: unknown) => {
      if (continued) return;
      if (state.problem) err = undefined;
      continued = true;
      next(err);
    };
    /** Stops reading the request: the route answers with what was received, then the connection is closed. */
    const stop = (problem: UploadProblem) => {
      if (continued || state.problem) return;
      state.problem = problem;
      req.unpipe();
      req.pause();
      // Not from inside the parser's event: the route runs on the next turn.
      setImmediate(proceed);
    };

    let cleaned = false;
    const cleanup = () => {
      if (cleaned) return;
      cleaned = true;
      for (const file of (req.files as Express.Multer.File[] | undefined) ?? []) {
        if (file.path) fs.rm(file.path, { force: true }, () => undefined);
      }
      if (owner && tempBytes > 0) {
        const left = (tempInUse.get(owner) ?? 0) - tempBytes;
        if (left > 0) tempInUse.set(owner, left);
        else tempInUse.delete(owner);
      }
    };
    res.once("finish", cleanup);
    res.once("close", () => {
      if (res.writableFinished) return cleanup();
      // The client left before the answer: the handler may still be moving these files; clean up when it answers.
      const end = res.end.bind(res) as (...args: unknown[]) => Response;
      res.end = ((...args: unknown[]) => {
        cleanup();
        return end(...args);
      }) as Response["end"];
    });

    const hooks: DiskHooks = {
      take(n) {
        if (!owner) return false;
        const used = (tempInUse.get(owner) ?? 0) + n;
        if (used > tempPerUserBytes) {
          stop({ kind: "busy" });
          return false;
        }
        tempInUse.set(owner, used);
        tempBytes += n;
        return true;
      },
      oversized() {
        // The declared length says the rest cannot fit either: stop at the first byte past 10 MB.
        if (declared > REQUEST_MAX_BYTES) stop({ kind: "too-large" });
      },
      answered: () => cleaned,
      failed(err) {
        if (isStorageFault(err)) stop({ kind: "storage", cause: err });
      },
    };

    const options: MulterOptions = {
      storage: new CappedDiskStorage(tmpDir, hooks),
      defParamCharset: "utf8",
      // Counts are bounded by REQUEST_MAX_BYTES; files past MAX_FILES_RECEIVED are only counted (fileFilter).
      limits: { files: 1000, fields: 100, parts: 1100, fieldSize: FIELD_MAX_BYTES, fieldNameSize: 100, headerPairs: 50 },
      fileFilter(_req, file, cb) {
        if (!owner) {
          stop({ kind: "not-signed-in" });
          return cb(null, false);
        }
        if (!csrfValid(req)) {
          stop({ kind: "csrf" });
          return cb(null, false);
        }
        if (filesWritten >= MAX_FILES_RECEIVED) {
          state.skipped.push(file.originalname ?? "");
          return cb(null, false);
        }
        filesWritten += 1;
        cb(null, true);
      },
      streamHandler(request: Request, busboy: NodeJS.WritableStream) {
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            received += chunk.length;
            if (received > REQUEST_MAX_BYTES) {
              stop({ kind: "too-large" });
              return done();
            }
            done(null, chunk);
          },
        });
        // Listened after multer's own listeners: what it would refuse after reading the whole body is answered now.
        busboy.on("field", (name: string, value: string, info: { valueTruncated: boolean }) => {
          if (!info.valueTruncated) return;
          // Cut inside a character: its broken last bytes dropped.
          if (req.body && !(name in req.body)) req.body[name] = value.replace(/\uFFFD+$/, "");
          stop({ kind: "field", field: name });
        });
        busboy.on("error", () => stop({ kind: "header" }));
        request.pipe(counter).pipe(busboy);
      },
    };
    const parser = multer(options).array("attachments", 1000);

    // On the next turn: a refusal our busboy listeners answer early (state.problem) wins over multer's error for it.
    parser(req, res, (err?: unknown) => setImmediate(() => proceed(err ? multipartError(err) : undefined)));
  };
}

/** What the parser refused that was not answered early (too many fields, a field name too long…): 413 or 400. */
function multipartError(err: unknown): HttpError {
  const code = err instanceof multer.MulterError ? err.code : "MALFORMED";
  return new HttpError(code === "LIMIT_FIELD_COUNT" || code === "LIMIT_PART_COUNT" || code === "LIMIT_FILE_COUNT" ? 413 : 400, code);
}

/** The file parts of a parsed request, ignoring the empty part a browser sends for an unused file input. */
export function uploadedFiles(req: Request): UploadedFile[] {
  const files = (req.files as Express.Multer.File[] | undefined) ?? [];
  return files
    .filter((f) => !(f.originalname === "" && f.size === 0))
    .map(
      (f): UploadedFile => ({
        originalName: f.originalname ?? "",
        size: f.size,
        tooLarge: f.size > MAX_FILE_BYTES,
        tmpPath: f.path || null,
        sha256: f.filename || null,
      }),
    )
    .concat((states.get(req)?.skipped ?? []).map((name) => ({ originalName: name, size: 0, tooLarge: false, tmpPath: null, sha256: null, overCount: true })));
}
