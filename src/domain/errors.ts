import { isDatabaseStorageFault } from "../db/dialect.js";

/** The record does not exist *for this actor* (or at all): the web layer always answers a plain 404. */
export class NotFound extends Error {
  constructor() {
    super("Not found");
  }
}

/**
 * A conversation the PS side deleted from its list, asked for by one of its own doctors: answered as a 404
 * like any record out of scope — except a reply posted into it, whose text comes back (web: ps routes).
 */
export class ThreadDeleted extends NotFound {
  constructor(readonly conversation: { id: number; subject: string; patientId: number | null }) {
    super();
  }
}

/** An attachment's stored file cannot be read (gone from the storage, unreadable): a server incident, by id and code only. */
export class StoredFileUnreadable extends Error {
  readonly status = 500;
  constructor(
    readonly attachmentId: number,
    readonly code: string,
  ) {
    super("Stored file unreadable");
  }
}

/** File system codes of a storage that cannot take a write: full, quota, read-only, permission, I/O error. */
const FILE_STORAGE_FAULTS = new Set(["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EIO"]);

/**
 * Whether an error means the service cannot store anything now (a file system or database fault, not a bug
 * nor a refusal): a file write (ENOSPC, EDQUOT, EROFS, EACCES, EPERM, EIO) or the database (see
 * isDatabaseStorageFault). A StorageUnavailable is one; so is an error whose `cause` is one.
 */
export function isStorageFault(err: unknown): boolean {
  if (err instanceof StorageUnavailable) return true;
  if (!err || typeof err !== "object") return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && FILE_STORAGE_FAULTS.has(code)) return true;
  if (isDatabaseStorageFault(err)) return true;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isStorageFault(cause);
}

/**
 * A write the user asked for could not be stored (attachment file, message, draft, session): nothing was
 * half-written. The web layer answers 503 — a compose form comes back with what was typed and
 * STORAGE_UNAVAILABLE_NOTICE; any other page « Service momentanément indisponible ». `code`: the cause's code only.
 */
export class StorageUnavailable extends Error {
  readonly status = 503;
  readonly code: string;
  constructor(override readonly cause: unknown) {
    super("Storage unavailable");
    const code = (cause as { code?: unknown })?.code;
    this.code = typeof code === "string" || typeof code === "number" ? String(code) : "unknown";
  }
}

/** What a compose form says above the text it gives back when the storage failed. */
export const STORAGE_UNAVAILABLE_NOTICE =
  "Le service ne peut pas enregistrer votre message pour le moment (espace de stockage indisponible). Rien n'a été envoyé ni enregistré ; votre texte est conservé ci-dessous. Réessayez dans quelques minutes, en joignant de nouveau les fichiers qui ne sont plus listés.";
