/**
 * `npm run bench:storage`: the app's memory while one request uploads 5 files of just under 10 MB, then while one of
 * them is downloaded, on the local folder and on an S3 bucket (s3rver in a process of its own). Each storage in a
 * freshly started app process (SQLite), warmed up by a send with a small file. RSS sampled every 5 ms from
 * /proc/<pid>/status (VmRSS) of the app process only, from just before the request until 300 ms after its answer.
 * Prints a Markdown table (docs/PERFORMANCE.md keeps the figures). The downloaded bytes are checked (SHA-256).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { createBucket, startS3Server } from "../test/helpers/s3-server.js";
import { Client, composeFields, selectPatientOver, sha256, sharedData, signInPsOver, sleep, startServer, uniquePdf } from "../test/helpers/process.js";

const MiB = 1024 * 1024;
/** Files in the measured send (`-- --files 1`: one, to see what the memory growth is proportional to). */
const FILES = Number(process.argv[process.argv.indexOf("--files") + 1] ?? 5) || 5;
const rssKb = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

/** Peak RSS of `pid` (MB) while `work` runs, and `work`'s result. */
async function peakDuring<T>(pid: number, work: () => Promise<T>): Promise<{ baseline: number; peak: number; result: T }> {
  const baseline = rssKb(pid);
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssKb(pid));
  }, 5);
  const result = await work();
  await sleep(300);
  clearInterval(timer);
  peak = Math.max(peak, rssKb(pid));
  return { baseline: baseline / 1024, peak: peak / 1024, result };
}

type Row = { storage: string; upMb: number; upBase: number; upPeak: number; upSeconds: number; downBase: number; downPeak: number; downSeconds: number; intact: boolean };

async function measure(storage: "local" | "s3", env: Record<string, string>): Promise<Row> {
  const data = await sharedData();
  const app = await startServer(data, { env: { ...env, LOG_LEVEL: "warn", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } });
  try {
    const c = new Client(app.baseUrl);
    await signInPsOver(c, data.db, "991101197");
    await selectPatientOver(c, { nir: "1620369387222", key: "46" });
    const send = async (files: Buffer[]) => {
      const fields = await composeFields(c);
      const res = await c.postMultipart(
        "/ps/conversations",
        { ...fields, subject: "Examens (bench)", body: "Ci-joint.", action: "send" },
        files.map((content, i) => ({ name: `examen-${i + 1}.pdf`, content, type: "application/pdf" })),
      );
      if (res.status !== 303) throw new Error(`send refused: ${res.status} ${res.text.slice(0, 200)}`);
      return Number(res.location!.split("/").pop());
    };
    await send([uniquePdf("warm", 100 * 1024)]);
    await sleep(500);
    const files = Array.from({ length: FILES }, (_, i) => {
      const base = uniquePdf(`bench-${i}`);
      return uniquePdf(`bench-${i}`, 10 * MiB - base.length - 4096);
    });
    const t0 = performance.now();
    const up = await peakDuring(app.pid, () => send(files));
    const upSeconds = (performance.now() - t0) / 1000;
    const [att] = await data.db("attachments as a").join("messages as m", "m.id", "a.message_id").where("m.conversation_id", up.result).orderBy("a.id").select("a.id");
    await sleep(500);
    const t1 = performance.now();
    const down = await peakDuring(app.pid, async () => {
      const res = await c.request(`/ps/attachments/${att.id}`);
      const hash = crypto.createHash("sha256");
      for await (const chunk of res.body!) hash.update(chunk);
      return hash.digest("hex");
    });
    const downSeconds = (performance.now() - t1) / 1000;
    return {
      storage,
      upMb: (FILES * files[0]!.length) / MiB,
      upBase: up.baseline,
      upPeak: up.peak,
      upSeconds,
      downBase: down.baseline,
      downPeak: down.peak,
      downSeconds,
      intact: down.result === sha256(files[0]!),
    };
  } finally {
    await app.stop();
    await data.dispose();
  }
}

const s3 = await startS3Server();
const rows: Row[] = [];
try {
  for (let round = 0; round < 2; round += 1) {
    rows.push(await measure("local", {}));
    rows.push(await measure("s3", await createBucket(s3.endpoint)));
  }
} finally {
  await s3.close();
}
const f = (n: number) => n.toFixed(1);
console.log("| storage | upload | time s | app RSS before → peak MB (growth) | download 1 file: time s | app RSS before → peak MB (growth) | bytes intact |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows)
  console.log(
    `| ${r.storage} | ${FILES} × ${f(r.upMb / FILES)} MB | ${f(r.upSeconds)} | ${f(r.upBase)} → ${f(r.upPeak)} (+${f(r.upPeak - r.upBase)}) | ${r.downSeconds.toFixed(2)} | ${f(r.downBase)} → ${f(r.downPeak)} (+${f(r.downPeak - r.downBase)}) | ${r.intact ? "yes" : "NO"} |`,
  );
if (rows.some((r) => !r.intact)) process.exit(1);
