/** The record does not exist *for this actor* (or at all): the web layer always answers a plain 404. */
export class NotFound extends Error {
  constructor() {
    super("Not found");
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
