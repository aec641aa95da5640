import { spawnSync } from "node:child_process";
import { ROOT } from "./process.js";
import type { TestApp } from "./app.js";

/** The environment a command-line tool gets to work on a test app's database and storage. */
export function cliEnv(app: TestApp): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: "test",
    DATA_DIR: app.dir,
    PUBLIC_URL: "https://ems.example",
    SESSION_SECRET: "test-secret-0123456789",
    DATABASE_URL: app.config.databaseUrl ?? "",
    DATABASE_SCHEMA: app.config.databaseSchema ?? "",
    LOG_LEVEL: "silent",
  };
}

/** Runs `src/cli/<script>` on the test app's data; its exit status and the JSON of its last line. */
export function runCli(app: TestApp, script: string, ...args: string[]): { status: number | null; stderr: string; result: Record<string, unknown> | null } {
  const out = spawnSync(process.execPath, ["--import", "tsx", `src/cli/${script}`, ...args], { cwd: ROOT, env: cliEnv(app), encoding: "utf8", timeout: 60_000 });
  const last = out.stdout.trim().split("\n").pop();
  return { status: out.status, stderr: out.stderr, result: out.status === 0 && last ? JSON.parse(last) : null };
}

/** Starts the server with only these settings: what it says when it refuses to start (exit status 1 expected). */
export function serverRefusal(env: Record<string, string>): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: "test", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: run.status, stderr: run.stderr.trim() };
}
