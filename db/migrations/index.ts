import type { Knex } from "knex";
import * as initialSchema from "./20261126140000_initial_schema.js";
import * as rateLimits from "./20261126150000_rate_limits.js";
import * as searchIndexes from "./20261126160000_search_indexes.js";
import * as notificationClaims from "./20261126170000_notification_claims.js";
import * as counters from "./20261126180000_counters.js";
import * as listIndexes from "./20261126190000_list_indexes.js";
import * as historyAndNameIndexes from "./20261126200000_history_and_name_indexes.js";
import * as conversationPatientName from "./20261126210000_conversation_patient_name.js";
import * as searchWords from "./20261202000000_search_words.js";
import * as trayUnreadAndFilters from "./20261202010000_tray_unread_and_filters.js";
import * as submissionKeyPerAuthor from "./20261202020000_submission_key_per_author.js";
import * as accessibilityFeedback from "./20261202030000_accessibility_feedback.js";
import * as internalNotes from "./20261203010000_internal_notes.js";
import * as replyModels from "./20261203020000_reply_models.js";
import * as assignment from "./20261204010000_assignment.js";
import * as replyPresence from "./20261204020000_reply_presence.js";
import * as fullText from "./20261204030000_full_text.js";
import * as deadlines from "./20261205010000_deadlines.js";
import * as markUnread from "./20261205030000_mark_unread.js";
import * as messageRecall from "./20261207010000_message_recall.js";
import * as closureReasons from "./20261205020000_closure_reasons.js";
import * as ssoIdentifiers from "./20261208010000_sso_identifiers.js";
import * as retention from "./20261209010000_retention.js";
import * as psOverdueCount from "./20261210010000_ps_overdue_count.js";

/**
 * The migrations, in order. Listed here (rather than found by scanning the folder) so that the app,
 * the knex CLI and the test runner load them the same way, TypeScript included.
 */
const migrations: Record<string, Knex.Migration> = {
  "20261126140000_initial_schema": initialSchema,
  "20261126150000_rate_limits": rateLimits,
  "20261126160000_search_indexes": searchIndexes,
  "20261126170000_notification_claims": notificationClaims,
  "20261126180000_counters": counters,
  "20261126190000_list_indexes": listIndexes,
  "20261126200000_history_and_name_indexes": historyAndNameIndexes,
  "20261126210000_conversation_patient_name": conversationPatientName,
  "20261202000000_search_words": searchWords,
  "20261202010000_tray_unread_and_filters": trayUnreadAndFilters,
  "20261202020000_submission_key_per_author": submissionKeyPerAuthor,
  "20261202030000_accessibility_feedback": accessibilityFeedback,
  "20261203010000_internal_notes": internalNotes,
  "20261203020000_reply_models": replyModels,
  "20261204010000_assignment": assignment,
  "20261204020000_reply_presence": replyPresence,
  "20261204030000_full_text": fullText,
  "20261205010000_deadlines": deadlines,
  "20261205030000_mark_unread": markUnread,
  "20261205020000_closure_reasons": closureReasons,
  "20261207010000_message_recall": messageRecall,
  "20261208010000_sso_identifiers": ssoIdentifiers,
  "20261209010000_retention": retention,
  "20261210010000_ps_overdue_count": psOverdueCount,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};
