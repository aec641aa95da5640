/** The attachment rules of the manual (§2): formats, 10 MB per file, 5 files per message. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const MAX_FILE_LABEL = "10 Mo";
export const MAX_FILES_PER_MESSAGE = 5;
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
