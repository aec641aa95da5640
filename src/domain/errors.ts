/** The record does not exist *for this actor* (or at all): the web layer always answers a plain 404. */
export class NotFound extends Error {
  constructor() {
    super("Not found");
  }
}
