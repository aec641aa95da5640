import { loadConfig } from "../config.js";
import { deadlinePass } from "../domain/conversations/deadlines.js";
import { buildRuntime } from "../runtime.js";

/**
 * `npm run reminders`: one deadline pass (issue 14 §2) — the threads whose answer-due date has passed are flagged
 * overdue and their reminder queued, once — then the notifications outbox is flushed. The app runs the same pass
 * every few minutes; this is for a cron, or to run it now. Safe beside running app processes (each reminder is claimed).
 */
const { db, notifier, logger } = buildRuntime(loadConfig());
try {
  const result = await deadlinePass(db, new Date());
  const sent = await notifier.flush();
  logger.info({ event: "deadlines.passed", ...result, sent }, "deadline pass");
  console.log(JSON.stringify({ event: "deadlines.passed", ...result, sent }));
} finally {
  await db.destroy();
}
