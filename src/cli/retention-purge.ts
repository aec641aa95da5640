import { loadConfig } from "../config.js";
import { noticePass, purgePass } from "../domain/conversations/retention.js";
import { buildRuntime } from "../runtime.js";

/**
 * `npm run retention:purge` (issue 17 §1): the retention passes the app runs every 15 minutes — the notices of threads
 * entering their notice period queued once and mailed, then the threads whose announced date has come purged (by
 * batches, their files after each commit). Safe beside running app processes (each notice and purge claimed).
 * `--dry-run`: prints what would be purged now, as counts, and writes nothing (no notice either).
 */
const dryRun = process.argv.includes("--dry-run");
const config = loadConfig();
const { db, storage, notifier, logger } = buildRuntime(config);
try {
  const now = new Date();
  if (dryRun) {
    const due = await purgePass({ db, storage }, now, { dryRun: true });
    console.log(JSON.stringify({ event: "retention.dry_run", ...due }));
  } else {
    const notices = await noticePass(db, { months: config.retentionMonths, noticeDays: config.retentionNoticeDays }, now);
    const purged = await purgePass({ db, storage }, now);
    const sent = notices.mails ? await notifier.flush() : 0;
    const result = { event: "retention.purged", ...notices, sent, ...purged };
    logger.info(result, "retention pass");
    console.log(JSON.stringify(result));
  }
} finally {
  await db.destroy();
}
