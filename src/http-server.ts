import http from "node:http";
import type { Express } from "express";
import type { Config } from "./config.js";

/**
 * The HTTP server of one app process, with its time limits: every header within headersTimeoutMs (a client
 * that trickles its headers is answered 408 and closed), the whole request within requestTimeoutMs, and
 * both checked every 2 s (Node checks every 30 s by default). Slow bodies are cut by bodyGuard (app.ts).
 */
export function createHttpServer(app: Express, config: Pick<Config, "headersTimeoutMs" | "requestTimeoutMs">): http.Server {
  const server = http.createServer({ connectionsCheckingInterval: 2000, headersTimeout: config.headersTimeoutMs, requestTimeout: config.requestTimeoutMs }, app);
  server.keepAliveTimeout = 5000;
  return server;
}
