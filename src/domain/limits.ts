import { PIN_DIGITS } from "./auth/pin.js";
import { CLOSE_TEXT_MAX, REASON_LABEL_MAX } from "./closure-reasons/reasons.js";
import { ACCEPTED_FORMATS_LABEL, KINDS, MAX_FILE_LABEL, MAX_FILES_PER_MESSAGE } from "./attachments/rules.js";
import { BROWSER_FILE_CHECKS } from "./attachments/service.js";
import { BODY_MAX, SUBJECT_MAX } from "./conversations/compose.js";
import { RECIPIENT_MAX } from "./conversations/elsm-question.js";
import { NOTE_MAX } from "./conversations/internal-notes.js";
import { SEARCH_MAX } from "./conversations/search.js";
import { NIR_TYPED_MAX } from "./directory/nir.js";
import { MODEL_BODY_MAX, MODEL_TITLE_MAX } from "./reply-models/models.js";

/** Every limit a form states or enforces, read by the templates from here (never written in them). */
export const LIMITS = {
  subject: SUBJECT_MAX,
  body: BODY_MAX,
  fileSize: MAX_FILE_LABEL,
  files: MAX_FILES_PER_MESSAGE,
  formats: ACCEPTED_FORMATS_LABEL,
  /** The file input's accept list: every extension of every accepted kind. */
  accept: Object.values(KINDS)
    .flatMap((k) => k.extensions.map((e) => `.${e}`))
    .join(","),
  /** The same limits and refusals for the browser's check before an upload (upload.js), as the file input's data-upload. */
  fileChecks: JSON.stringify(BROWSER_FILE_CHECKS),
  recipient: RECIPIENT_MAX,
  /** An internal note of the back office (issue 13 §2). */
  note: NOTE_MAX,
  search: SEARCH_MAX,
  /** NIR typed in the patient form: 13 characters (and the key), room for spaces or dots between the groups. */
  nir: NIR_TYPED_MAX,
  nirKey: 2,
  pin: PIN_DIGITS,
  /** The échelon's saved replies: a title, and a text as long as a message. */
  modelTitle: MODEL_TITLE_MAX,
  modelBody: MODEL_BODY_MAX,
  /** The échelon's closure reasons, and the précision of a close (issue 14 §3). */
  reasonLabel: REASON_LABEL_MAX,
  closeText: CLOSE_TEXT_MAX,
} as const;
