import { spawnSync } from "node:child_process";
import { ROOT } from "./process.js";
import type { TestApp } from "./app.js";

/** The environment a command-line tool gets to work on a test app's database and storage (its folder or its bucket). */
export function cliEnv(app: TestApp): NodeJS.ProcessEnv {
  return { ...process.env, ...app.settings, LOG_LEVEL: "silent" };
}

/** Runs `src/cli/<script>` on the test app's data; its exit status and the JSON of its last line. */
export function runCli(app: TestApp, script: string, ...args: string[]): { status: number | null; stderr: string; result: Record<string, unknown> | null } {
  const out = spawnSync(process.execPath, ["--import", "tsx", `src/cli/${script}`, ...args], { cwd: ROOT, env: cliEnv(app), encoding: "utf8", timeout: 60_000 });
  const last = out.stdout.trim().split("\n").pop();
  return { status: out.status, stderr: out.stderr, result: out.status === 0 && last ? JSON.parse(last) : null };
}
