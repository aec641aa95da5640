import yauzl from "yauzl";

/**
 * A Word or Excel file (OOXML) is a zip: before it is accepted, its central directory is read — entry count, each
 * entry's declared sizes — without inflating anything, so that a "zip bomb" dressed as a document (one entry of a
 * gibibyte, ten thousand entries, a ratio no document has) never reaches the person who opens it.
 * Limits in the spirit of Apache POI's ZipSecureFile (inflate ratio 1 %), well above any real document.
 */
export const OOXML_LIMITS = {
  /** A real document has tens of parts; a large workbook a few hundred. */
  entries: 2_000,
  /** All parts inflated together. */
  totalBytes: 500 * 1024 * 1024,
  /** Compressed to less than 1 % of its size: only past this size (small XML parts compress very well). */
  ratio: 100,
  ratioFrom: 1024 * 1024,
} as const;

/** Why the container is refused, or null when its directory is that of a plausible document. */
export async function ooxmlContainerProblem(filePath: string): Promise<string | null> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(filePath, { lazyEntries: true, autoClose: false, validateEntrySizes: false }, (err, z) => (err || !z ? reject(err) : resolve(z))),
    );
  } catch {
    return "unreadable zip directory";
  }
  try {
    if (zip.entryCount > OOXML_LIMITS.entries) return `${zip.entryCount} entries`;
    let total = 0;
    for (let i = 0; i < zip.entryCount; i++) {
      const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        zip.once("entry", resolve);
        zip.once("end", () => resolve(null));
        zip.once("error", reject);
        zip.readEntry();
      }).finally(() => zip.removeAllListeners("entry").removeAllListeners("end").removeAllListeners("error"));
      if (!entry) break;
      total += entry.uncompressedSize;
      if (total > OOXML_LIMITS.totalBytes) return "declared size";
      if (entry.uncompressedSize > OOXML_LIMITS.ratioFrom && entry.uncompressedSize > OOXML_LIMITS.ratio * Math.max(1, entry.compressedSize)) return "inflate ratio";
    }
    return null;
  } catch {
    return "unreadable zip directory";
  } finally {
    zip.close();
  }
}
