import { readFileSync } from "node:fs";
import type { ChatCompletionChunk, FinishReason, Usage } from "../../../../core/api/chat-response.ts";
import { parseSseTranscript } from "../../../../core/api/sse-parser.ts";
import {
  type AnthropicStreamState,
  initAnthropicStream,
  reduceAnthropicStream,
} from "../../../../core/providers/anthropic/stream.ts";
import type { StreamFault } from "../../../../core/providers/types.ts";

export const META = {
  id: "chatcmpl-gw-1",
  created: 1_700_000_000,
  model: "claude-alias",
  provider: "anthropic",
};

/** Feeds a recorded transcript through the reducer as the router would, stopping at the first fault. */
export function replay(name: string): {
  chunks: ChatCompletionChunk[];
  state: AnthropicStreamState;
  fault?: StreamFault;
} {
  const text = readFileSync(new URL(`../../../fixtures/transcripts/${name}`, import.meta.url), "utf8");
  let state = initAnthropicStream(META);
  const chunks: ChatCompletionChunk[] = [];
  for (const event of parseSseTranscript(text)) {
    const step = reduceAnthropicStream(event, state);
    chunks.push(...step.out);
    state = step.state;
    if (step.fault) return { chunks, state, fault: step.fault };
  }
  return { chunks, state };
}

export interface Reassembled {
  role: string | undefined;
  content: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason: FinishReason | null;
  usage: Usage | undefined;
}

/** Concatenates deltas the way an OpenAI client does, keyed by tool-call `index`. */
export function reassemble(chunks: ChatCompletionChunk[]): Reassembled {
  const out: Reassembled = {
    role: undefined,
    content: "",
    toolCalls: [],
    finishReason: null,
    usage: undefined,
  };
  for (const c of chunks) {
    if (c.usage) out.usage = c.usage;
    for (const choice of c.choices) {
      out.role ??= choice.delta.role;
      out.content += choice.delta.content ?? "";
      for (const t of choice.delta.tool_calls ?? []) {
        const call = out.toolCalls[t.index] ?? { id: "", name: "", arguments: "" };
        out.toolCalls[t.index] = call;
        call.id += t.id ?? "";
        call.name += t.function.name ?? "";
        call.arguments += t.function.arguments;
      }
      out.finishReason ??= choice.finish_reason;
    }
  }
  return out;
}
