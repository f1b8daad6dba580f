import { createParser, type EventSourceMessage } from "eventsource-parser";

/**
 * The one SSE parser. Feed it decoded text in whatever pieces the network delivers (CRLF, CR or LF line
 * endings, events split anywhere); it calls back once per complete event. Decoding bytes to text,
 * including multi-byte UTF-8 characters split across reads, is the caller's job (a StringDecoder).
 */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

export interface SseParser {
  feed(text: string): void;
  reset(): void;
}

export interface SseParserOptions {
  /**
   * The most characters one event (its unfinished line plus its data so far) may hold. Past it the
   * parser stops for good and calls `onOverflow`: a provider streaming one endless event would
   * otherwise grow memory until the stream's total timeout.
   */
  maxEventChars?: number | undefined;
  onOverflow?: (() => void) | undefined;
}

export function createSseParser(onEvent: (event: SseEvent) => void, opts: SseParserOptions = {}): SseParser {
  const parser = createParser({
    onEvent: (msg: EventSourceMessage) => onEvent({ event: msg.event, data: msg.data }),
    // The other errors (a bad `retry:`, an unknown field) are lines the spec says to ignore.
    onError: (err) => {
      if (err.type === "max-buffer-size-exceeded") opts.onOverflow?.();
    },
    maxBufferSize: opts.maxEventChars,
  });
  return { feed: (text) => parser.feed(text), reset: () => parser.reset() };
}

/** Parses a whole SSE transcript at once (fixtures and tests). */
export function parseSseTranscript(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createSseParser((e) => events.push(e));
  parser.feed(text);
  parser.feed("\n\n");
  return events;
}
