import { ORPHAN_MIN_AGE_MS } from "../attachments/orphans.js";
import { KINDS, MAX_FILES_PER_MESSAGE, type Kind } from "../attachments/rules.js";
import { sizeLabel, type StoredFile } from "../attachments/service.js";
import { readPayload, signPayload } from "./form-context.js";

/**
 * Files a form accepted but that no draft or message holds yet: the échelon's question refused for its
 * recipient comes back with them without writing a draft colleagues would see. They are stored (no
 * attachment row) and named in a hidden field the server signs for the agent who uploaded them, so
 * nobody can claim another's file. Never attached, they are swept with the other orphans after 24 h.
 */
export type HeldFile = StoredFile & { at: number };

/** What the form shows of a held file (no link: it has no attachment row to download through). */
export type HeldFileView = { key: string; name: string; size: string };

/** A held file is offered again only while the orphan sweep cannot have removed it (an hour to spare). */
export const HELD_MAX_AGE_MS = ORPHAN_MIN_AGE_MS - 3_600_000;

type Token = { a: string; f: { k: string; n: string; t: Kind; s: number; h: string; at: number }[] };

export function holdFiles(files: StoredFile[], now = Date.now()): HeldFile[] {
  return files.map((f) => ({ ...f, at: now }));
}

/** The hidden field naming the held files, for this actor only ("" when there is none). */
export function signHeldFiles(secret: string, actorKey: string, files: HeldFile[]): string {
  if (files.length === 0) return "";
  const token: Token = { a: actorKey, f: files.map((f) => ({ k: f.storageKey, n: f.originalName, t: f.kind, s: f.size, h: f.sha256, at: f.at })) };
  return signPayload(secret, token);
}

/** The held files a posted form names, if the server signed them for this actor and they are still kept; minus those the user removed. */
export function readHeldFiles(secret: string, actorKey: string, raw: unknown, removed: string[] = [], now = Date.now()): HeldFile[] {
  const token = readPayload<Token>(secret, raw, 8000);
  if (!token || token.a !== actorKey || !Array.isArray(token.f)) return [];
  return token.f
    .filter((f) => /^[a-f0-9]{32}$/.test(f.k) && f.t in KINDS && now - f.at < HELD_MAX_AGE_MS && !removed.includes(f.k))
    .slice(0, MAX_FILES_PER_MESSAGE)
    .map((f) => ({ storageKey: f.k, originalName: f.n, kind: f.t, size: f.s, sha256: f.h, at: f.at }));
}

export function heldFileViews(files: HeldFile[]): HeldFileView[] {
  return files.map((f) => ({ key: f.storageKey, name: f.originalName, size: sizeLabel(f.size) }));
}
