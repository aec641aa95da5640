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
