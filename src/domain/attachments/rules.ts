/** The attachment rules of the manual (§2): formats, 10 MB per file, 5 files per message. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const MAX_FILE_LABEL = "10 Mo";
export const MAX_FILES_PER_MESSAGE = 5;
/** What one post of a compose form may carry: its files and the form (text fields, hidden fields, part headers). */
export const FORM_ALLOWANCE_BYTES = 1024 * 1024;
export const REQUEST_MAX_BYTES = MAX_FILES_PER_MESSAGE * MAX_FILE_BYTES + FORM_ALLOWANCE_BYTES;
export const REQUEST_MAX_LABEL = `${Math.round(REQUEST_MAX_BYTES / (1024 * 1024))} Mo`;
/** One text field of a post (the message is 20,000 characters at most: up to 80 KB of UTF-8). */
export const FIELD_MAX_BYTES = 256 * 1024;
export const FIELD_MAX_LABEL = "256 Ko";
/** A part's header (its name, its file name): busboy's own limit, 16 KB. */
export const PART_HEADER_MAX_LABEL = "16 Ko";
/** Files of one post written to the temporary folder; any beyond are counted, not written (refused: 5 per message). */
export const MAX_FILES_RECEIVED = 2 * MAX_FILES_PER_MESSAGE;
export const ACCEPTED_FORMATS_LABEL = "PDF, XLS, WORD, JPG, PNG";

/** Accepted kinds, the extensions a name may carry for each, and the type the file is served with. */
export const KINDS = {
  pdf: { extensions: ["pdf"], mime: "application/pdf" },
  jpg: { extensions: ["jpg", "jpeg"], mime: "image/jpeg" },
  png: { extensions: ["png"], mime: "image/png" },
  doc: { extensions: ["doc"], mime: "application/msword" },
  xls: { extensions: ["xls"], mime: "application/vnd.ms-excel" },
  docx: { extensions: ["docx"], mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
  xlsx: { extensions: ["xlsx"], mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
} as const;

export type Kind = keyof typeof KINDS;
