import type { Knex } from "knex";
import type { Scanner } from "./antivirus.js";
import { detectKind } from "./filetype.js";
import { ACCEPTED_FORMATS_LABEL, KINDS, MAX_FILE_BYTES, MAX_FILE_LABEL, MAX_FILES_PER_MESSAGE, type Kind } from "./rules.js";
import type { FileStorage } from "./storage.js";
import { isStorageFault, StorageUnavailable } from "../errors.js";

/** A file part as received by the web layer: written to the temporary folder, or only counted when it was too big. */
export type UploadedFile = {
  originalName: string;
  size: number;
  tooLarge: boolean;
  tmpPath: string | null;
  sha256: string | null;
  /** Past the files one post may bring (MAX_FILES_RECEIVED): counted, never written, refused. */
  overCount?: boolean;
};

export type StoredFile = { storageKey: string; originalName: string; kind: Kind; size: number; sha256: string };

// Path separators, quotes, markup and control characters, including bidirectional overrides (RTL tricks).
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is what this pattern is for.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069"'`<>:\\/|?*]/g;

/** A display and download name that is plain text: no path, no markup, no control characters, ≤ 120 characters. */
export function safeFileName(raw: string, fallbackExtension = ""): string {
  const base = raw.split(/[\\/]/).pop() ?? "";
  let name = base
    .normalize("NFC")
    .replace(UNSAFE, "_")
    .replace(/\s+/g, " ")
    .replace(/^[.\s_]+/, "")
    .trim();
  if (name.length > 120) {
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 && name.length - dot <= 6 ? name.slice(dot) : "";
    name = name.slice(0, 120 - ext.length) + ext;
  }
  return name || `piece-jointe${fallbackExtension ? `.${fallbackExtension}` : ""}`;
}

function refusal(name: string, reason: "empty" | "format" | "zip" | "ole" | "mismatch" | "bomb" | "large" | "count" | "virus" | "unscanned"): string {
  switch (reason) {
    case "virus":
      return `« ${name} » contient un virus détecté par l'antivirus : il n'a pas été joint.`;
    case "unscanned":
      return `« ${name} » n'a pas pu être analysé par l'antivirus : il n'a pas été joint. Réessayez dans quelques instants.`;
    case "large":
      return `« ${name} » dépasse la taille maximale de ${MAX_FILE_LABEL} : il n'a pas été joint.`;
    case "empty":
      return `« ${name} » est un fichier vide (0 octet) : il n'a pas été joint.`;
    case "zip":
      return `« ${name} » est une archive qui n'est pas un document Word ou Excel : format non accepté.`;
    case "bomb":
      return `« ${name} » a la structure d'une archive piégée (contenu décompressé démesuré ou trop de parties) et non celle d'un document Word ou Excel : il n'a pas été joint.`;
    case "ole":
      return `« ${name} » n'est ni un document Word ni un classeur Excel : format non accepté.`;
    case "mismatch":
      return `« ${name} » : l'extension du nom ne correspond pas au contenu réel du fichier ; il n'a pas été joint.`;
    case "count":
      return `« ${name} » n'a pas été joint : ${MAX_FILES_PER_MESSAGE} pièces jointes au maximum par message.`;
    default:
      return `« ${name} » n'est pas dans un format accepté (${ACCEPTED_FORMATS_LABEL}) : il n'a pas été joint.`;
  }
}

/**
 * What the browser may check before a post leaves (upload.js: a courtesy, the server stays the authority): the
 * limits and this module's own words for a file too big, empty, of a format not accepted or past the count, `{name}`
 * standing for the file's name.
 */
export const BROWSER_FILE_CHECKS = {
  maxBytes: MAX_FILE_BYTES,
  maxFiles: MAX_FILES_PER_MESSAGE,
  large: refusal("{name}", "large"),
  empty: refusal("{name}", "empty"),
  format: refusal("{name}", "format"),
  count: refusal("{name}", "count"),
};

/**
 * Checks each uploaded file by its content and the limits, moves the good ones into storage, and
 * returns them with a French message for each refused one. `alreadyAttached` counts files kept on the draft.
 * A storage that cannot take a file throws StorageUnavailable, none of these files stored.
 */
export async function acceptUploads(files: UploadedFile[], alreadyAttached: number, storage: FileStorage, scan?: Scanner): Promise<{ stored: StoredFile[]; errors: string[] }> {
  const stored: StoredFile[] = [];
  const errors: string[] = [];
  for (const file of files) {
    const name = safeFileName(file.originalName);
    if (file.overCount) {
      errors.push(refusal(name, "count"));
      continue;
    }
    if (file.tooLarge || !file.tmpPath) {
      errors.push(refusal(name, "large"));
      continue;
    }
    if (scan && file.size > 0) {
      const verdict = await scan(file.tmpPath).catch(() => "unscanned" as const);
      if (verdict !== "clean") {
        errors.push(refusal(name, verdict === "infected" ? "virus" : "unscanned"));
        continue;
      }
    }
    const detection = await detectKind(file.tmpPath, file.size, name);
    if (!detection.ok) {
      errors.push(refusal(name, detection.reason));
      continue;
    }
    if (alreadyAttached + stored.length >= MAX_FILES_PER_MESSAGE) {
      errors.push(refusal(name, "count"));
      continue;
    }
    let storageKey: string;
    try {
      storageKey = await storage.put(file.tmpPath);
    } catch (err) {
      if (!isStorageFault(err)) throw err;
      // Nothing of this post is kept half-stored: the files it already stored go (or are left to the orphan sweep).
      await Promise.all(stored.map((f) => storage.remove(f.storageKey).catch(() => undefined)));
      throw new StorageUnavailable(err);
    }
    stored.push({ storageKey, originalName: name, kind: detection.kind, size: file.size, sha256: file.sha256 ?? "" });
  }
  return { stored, errors };
}

export async function attachToDraft(trx: Knex, draftId: number, files: StoredFile[]): Promise<void> {
  if (files.length === 0) return;
  const now = new Date().toISOString();
  await trx("attachments").insert(
    files.map((f) => ({
      draft_id: draftId,
      storage_key: f.storageKey,
      original_name: f.originalName,
      mime_type: KINDS[f.kind].mime,
      extension: f.kind,
      size_bytes: f.size,
      sha256: f.sha256,
      created_at: now,
    })),
  );
}

export type AttachmentView = { id: number; name: string; size: string };

export function sizeLabel(bytes: number): string {
  if (bytes < 1024) return `${bytes} o`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} Ko`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(".", ",")} Mo`;
}

export async function draftAttachments(db: Knex, draftId: number): Promise<AttachmentView[]> {
  const rows = await db("attachments").where({ draft_id: draftId }).orderBy("id").select("id", "original_name", "size_bytes");
  return rows.map((r) => ({ id: r.id, name: r.original_name, size: sizeLabel(r.size_bytes) }));
}

/** RFC 6266 Content-Disposition: an ASCII fallback and the exact UTF-8 name. */
export function contentDisposition(name: string): string {
  const ascii = name
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^\x20-\x7e]/g, "_")
    .replace(/["\\%]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
