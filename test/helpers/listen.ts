import type http from "node:http";
import type { AddressInfo } from "node:net";
import { createHttpServer } from "../../src/http-server.js";
import type { Session, TestApp } from "./app.js";

/** The test app behind a real listening server (its time limits included), for tests about sockets. */
export async function listenTestApp(app: TestApp): Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const server = createHttpServer(app.app, app.config).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A signed-in session's cookie header, for a request written by hand on a socket. */
export function cookieOf(s: Session): string {
  const jar = (s.agent as unknown as { jar: { getCookies(a: object): { toValueString(): string }[] } }).jar;
  return jar
    .getCookies({ domain: "127.0.0.1", path: "/", secure: false, script: false })
    .map((c) => c.toValueString())
    .join("; ");
}
