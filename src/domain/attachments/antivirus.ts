import { execFile } from "node:child_process";

/** Virus scanning of an uploaded file before it is kept. */
export type Scanner = (filePath: string) => Promise<"clean" | "infected">;

/**
 * ClamAV through its command line (`clamscan`, or `clamdscan` to use a running clamd):
 * exit 0 = clean, 1 = infected, anything else = could not scan (the file is then refused).
 */
export function clamavScanner(command: string, database?: string): Scanner {
  return (filePath) =>
    new Promise((resolve, reject) => {
      const args = ["--no-summary", ...(database ? [`--database=${database}`] : []), filePath];
      execFile(command, args, { timeout: 120_000 }, (err) => {
        if (!err) return resolve("clean");
        if ((err as { code?: unknown }).code === 1) return resolve("infected");
        reject(new Error(`antivirus failed: ${(err as Error).message.split("\n")[0]}`));
      });
    });
}
