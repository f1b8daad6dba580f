import { type AuditExport, AuditExportError } from "./export.ts";

/** The merged export is one string, written and read whole: V8's longest is 2^29 - 24 characters. */
export const MAX_EXPORT_CHARS = 500_000_000;
/** Empty pages in a row before the reading stops: 100 000 missing seqs at the default page size. */
export const MAX_EMPTY_PAGES = 100;

/**
 * Every page of a chain's export, in order, as `fetchPage` answers them from seq 1 (following each
 * page's `next`), for mergeExportPages. `most` is the most entries a page may hold (what was asked for).
 *
 * A page must be one the gateway makes: moving on by at least one seq and at most `most`, holding only
 * its own seqs, and ending at its last entry (its bytes ran out) or after the seqs asked for. Anything
 * else, from a gateway that is not one, throws AuditExportError rather than loop for ever or fold
 * entries from elsewhere into the file. A page with no entries before the end is the store missing a
 * run of seqs, which the verifier reports as removed; more than MAX_EMPTY_PAGES of them in a row (a
 * head forged far ahead would make billions) stop the reading, naming the run.
 */
export async function readExportPages(
  fetchPage: (fromSeq: number) => Promise<AuditExport>,
  most: number,
): Promise<AuditExport[]> {
  const pages: AuditExport[] = [];
  let chars = 0;
  let empty = 0;
  let emptyFrom: number | undefined;
  for (let next: number | undefined = 1; next !== undefined; ) {
    const fromSeq = next;
    const page = await fetchPage(fromSeq);
    if ((page.fromSeq ?? 1) !== fromSeq)
      throw new AuditExportError(`asked for the page from seq ${fromSeq}, got one from ${page.fromSeq ?? 1}`);
    const end = page.next ?? Number.POSITIVE_INFINITY;
    if (page.next !== undefined && (end <= fromSeq || end - fromSeq > most))
      throw new AuditExportError(
        `the page from seq ${fromSeq} goes on at seq ${page.next}: not a page of at most ${most}`,
      );
    const stray = page.entries.find((e) => e.seq < fromSeq || e.seq >= end);
    if (stray) throw new AuditExportError(`the page from seq ${fromSeq} holds seq ${stray.seq}, outside it`);
    if (page.next !== undefined && page.entries.length === 0) {
      emptyFrom ??= fromSeq;
      if (++empty > MAX_EMPTY_PAGES)
        throw new AuditExportError(
          `the store holds no entries from seq ${emptyFrom} through at least seq ${page.next - 1} (${empty} empty pages in a row): the chain's entries there were removed, or its head was forged far ahead`,
        );
    } else {
      empty = 0;
      emptyFrom = undefined;
    }
    if (page.next !== undefined && page.entries.at(-1)?.seq !== page.next - 1 && end - fromSeq !== most)
      throw new AuditExportError(
        `the page from seq ${fromSeq} ends at seq ${page.next - 1} without its entry`,
      );
    chars += page.entries.reduce((sum, e) => sum + JSON.stringify(e).length, 0);
    if (chars > MAX_EXPORT_CHARS)
      throw new AuditExportError(
        `the chain passes ${MAX_EXPORT_CHARS} characters of entries by seq ${page.entries.at(-1)?.seq}: more than one file can hold (a JavaScript string's limit)`,
      );
    pages.push(page);
    next = page.next;
  }
  return pages;
}
