/**
 * Decodes the Lambda streaming framing: `<JSON prelude><8 NUL bytes><body>`. Feeds bytes in any
 * split; reports the prelude once, then passes body bytes through untouched.
 */
export interface Prelude {
  statusCode?: number;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  cookies?: string[];
}

const DELIMITER_LENGTH = 8;
/** A prelude is a few headers; refuse to buffer without bound if a handler forgets the framing. */
const MAX_PRELUDE = 64 * 1024;

export class PreludeDecoder {
  private pending: Buffer | undefined = Buffer.alloc(0);

  private readonly onPrelude: (prelude: Prelude) => void;
  private readonly onBody: (chunk: Buffer) => void;

  constructor(onPrelude: (prelude: Prelude) => void, onBody: (chunk: Buffer) => void) {
    this.onPrelude = onPrelude;
    this.onBody = onBody;
  }

  feed(chunk: Buffer): void {
    if (this.pending === undefined) {
      if (chunk.length) this.onBody(chunk);
      return;
    }
    const buf = Buffer.concat([this.pending, chunk]);
    const at = findDelimiter(buf);
    if (at < 0) {
      if (buf.length > MAX_PRELUDE)
        throw new Error("response stream prelude exceeds 64 KiB or lacks its delimiter");
      this.pending = buf;
      return;
    }
    this.pending = undefined;
    this.onPrelude(JSON.parse(buf.subarray(0, at).toString("utf8")) as Prelude);
    const rest = buf.subarray(at + DELIMITER_LENGTH);
    if (rest.length) this.onBody(rest);
  }

  get decoded(): boolean {
    return this.pending === undefined;
  }
}

/** JSON cannot hold a raw NUL byte (JSON.stringify escapes it), so the first 8 NULs end the prelude. */
const DELIMITER = Buffer.alloc(DELIMITER_LENGTH);

function findDelimiter(buf: Buffer): number {
  return buf.indexOf(DELIMITER);
}
