import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Request, RequestHandler } from "express";
import multer from "multer";
import { HttpError } from "./errors.js";
import { uploadedBytes } from "./upload-memory.js";
import { MAX_FILE_BYTES } from "../../domain/attachments/rules.js";
import type { UploadedFile } from "../../domain/attachments/service.js";

/**
 * Writes each file part to disk while counting: past 10 MB it stops writing and only drains the
 * rest, so the request goes on and every other field and file of the form is kept (nothing lost).
 */
export class CappedDiskStorage implements multer.StorageEngine {
  constructor(private readonly dir: string) {}

  _handleFile(_req: Request, file: Express.Multer.File, cb: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
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
    file.stream.on("end", () => {
      if (failed) return;
      if (tooLarge) return settle(null, { size, path: "", filename: "" });
      // Done once the file is closed: an error while flushing or closing goes through fail() instead.
      out.once("close", () => {
        if (!failed) settle(null, { size, path: tmpPath, filename: hash.digest("hex") });
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

const MAX_PARTS_FILES = 20;

/**
 * Parses every multipart request (before the CSRF check, which needs its fields). Files land in the
 * storage's temporary folder; whatever a handler did not move into the store is deleted when the
 * response ends.
 */
export function multipartParser(tmpDir: string): RequestHandler[] {
  const parser = multer({
    storage: new CappedDiskStorage(tmpDir),
    defParamCharset: "utf8",
    limits: { files: MAX_PARTS_FILES, fields: 40, parts: 70, fieldSize: 200 * 1024, fieldNameSize: 100, headerPairs: 50 },
  }).array("attachments", MAX_PARTS_FILES);

  const cleanup: RequestHandler = (req, res, next) => {
    res.on("close", () => {
      for (const file of (req.files as Express.Multer.File[] | undefined) ?? []) {
        if (file.path) fs.rm(file.path, { force: true }, () => undefined);
      }
    });
    next();
  };

  const parse: RequestHandler = (req, res, next) => {
    if (!(req.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data")) return next();
    cleanup(req, res, () => parser(req, res, (err?: unknown) => next(err ? multipartError(err) : undefined)));
  };

  return [parse];
}

/** Too many files or too long a field: 413; anything else the parser refuses (malformed body): 400. */
function multipartError(err: unknown): HttpError {
  const code = err instanceof multer.MulterError ? err.code : "MALFORMED";
  return new HttpError(code === "LIMIT_FILE_COUNT" || code === "LIMIT_FIELD_VALUE" || code === "LIMIT_PART_COUNT" ? 413 : 400, code);
}

/** The file parts of a parsed request, ignoring the empty part a browser sends for an unused file input. */
export function uploadedFiles(req: Request): UploadedFile[] {
  const files = (req.files as Express.Multer.File[] | undefined) ?? [];
  return files
    .filter((f) => !(f.originalname === "" && f.size === 0))
    .map((f) => ({
      originalName: f.originalname ?? "",
      size: f.size,
      tooLarge: f.size > MAX_FILE_BYTES,
      tmpPath: f.path || null,
      sha256: f.filename || null,
    }));
}
