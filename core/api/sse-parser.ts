/**
 * The one SSE parser, after the WHATWG "event stream" interpretation. Feed it decoded text in whatever
 * pieces the network delivers (CRLF, CR or LF line endings, events split anywhere); it calls back once
 * per complete event. Decoding bytes to text, including multi-byte UTF-8 characters split across reads,
 * is the caller's job (a StringDecoder).
 *
 * Our own rather than a library's because an event must stay bounded in memory, not only in length: a
 * parser that appends each `data:` line to a growing string keeps one string node per line, so an event
 * of millions of empty `data:` lines from a broken provider cost some 40 bytes a character and took the
 * process down far below any length cap. Here the lines are kept in an array and joined once, and both
 * the event's characters and its lines are capped.
 */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

export interface SseParser {
  feed(text: string): void;
}

export interface SseParserOptions {
  /**
   * The most characters one event may take, every line since the last blank one counted (comments and
   * other fields too: a kept `data:` value is a slice that holds its whole network read in memory) and
   * its unfinished line included, and the most `data:` lines. Past either, the parser stops for good
   * and calls `onOverflow`: a provider streaming one endless event would otherwise grow memory until
   * the stream's total timeout.
   */
  maxEventChars?: number | undefined;
  maxEventLines?: number | undefined;
  onOverflow?: (() => void) | undefined;
  /** A comment line (`: ping`) came: no event, but a sign of life. */
  onComment?: (() => void) | undefined;
}

const BOM = "\uFEFF";

export function createSseParser(onEvent: (event: SseEvent) => void, opts: SseParserOptions = {}): SseParser {
  const maxChars = opts.maxEventChars ?? Number.POSITIVE_INFINITY;
  const maxLines = opts.maxEventLines ?? Number.POSITIVE_INFINITY;
  /** The unfinished line, in the pieces it came in: joined once it ends (appending each is n²). */
  let partial: string[] = [];
  let partialChars = 0;
  let data: string[] = [];
  /** Characters of the lines since the last blank one, line ends included. */
  let eventChars = 0;
  let type: string | undefined;
  /** The last piece ended with CR: a LF opening the next one belongs to that line break. */
  let afterCr = false;
  let started = false;
  let stopped = false;

  const clearEvent = () => {
    data = [];
    eventChars = 0;
    type = undefined;
  };

  const overflow = () => {
    stopped = true;
    partial = [];
    partialChars = 0;
    clearEvent();
    opts.onOverflow?.();
  };

  const line = (text: string) => {
    if (text === "") {
      if (data.length > 0) onEvent({ event: type, data: data.join("\n") });
      clearEvent();
      return;
    }
    eventChars += text.length + 1;
    if (eventChars > maxChars) {
      overflow();
      return;
    }
    if (text.charCodeAt(0) === 58 /* ':' */) {
      opts.onComment?.();
      return;
    }
    const colon = text.indexOf(":");
    const name = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* ' ' */) value = value.slice(1);
    if (name === "data") {
      data.push(value);
      if (data.length > maxLines) overflow();
    } else if (name === "event") type = value;
    // `id` and `retry` steer a browser's reconnection, which a proxy reading one response never does;
    // any other field is ignored, as the spec says.
  };

  function feed(chunk: string): void {
    if (stopped || chunk === "") return;
    let text = chunk;
    if (!started) {
      started = true;
      if (text.startsWith(BOM)) text = text.slice(1);
    }
    let at = 0;
    if (afterCr) {
      afterCr = false;
      if (text.charCodeAt(0) === 10 /* LF */) at = 1;
    }
    // The next LF and CR at or after `at`, looked for again only once passed (-1: none left), so a
    // chunk of many lines is scanned once, not once per line.
    let lf = -2;
    let cr = -2;
    while (at < text.length && !stopped) {
      if (lf !== -1 && lf < at) lf = text.indexOf("\n", at);
      if (cr !== -1 && cr < at) cr = text.indexOf("\r", at);
      const end = cr >= 0 && (lf < 0 || cr < lf) ? cr : lf;
      if (end < 0) {
        const rest = text.slice(at);
        partial.push(rest);
        partialChars += rest.length;
        if (partialChars + eventChars > maxChars) overflow();
        return;
      }
      let piece = text.slice(at, end);
      if (partial.length > 0) {
        partial.push(piece);
        piece = partial.join("");
        partial = [];
        partialChars = 0;
      }
      line(piece);
      if (text.charCodeAt(end) === 13 /* CR */) {
        if (end + 1 === text.length) afterCr = true;
        else if (text.charCodeAt(end + 1) === 10) {
          at = end + 2;
          continue;
        }
      }
      at = end + 1;
    }
  }

  return { feed };
}

/** Parses a whole SSE transcript at once (fixtures and tests). */
export function parseSseTranscript(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createSseParser((e) => events.push(e));
  parser.feed(text);
  parser.feed("\n\n");
  return events;
}
