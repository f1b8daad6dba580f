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

export function createSseParser(
  onEvent: (event: SseEvent) => void,
  onError?: (message: string) => void,
): SseParser {
  const parser = createParser({
    onEvent: (msg: EventSourceMessage) => onEvent({ event: msg.event, data: msg.data }),
    onError: (err) => onError?.(err.message),
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
