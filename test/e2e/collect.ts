import type OpenAI from "openai";

/** Concatenates a streamed answer the way an application would. */
export async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  let content = "";
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  const tools = new Map<number, { id?: string; name: string; args: string }>();
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? "";
      if (choice.finish_reason) finish = choice.finish_reason;
      for (const t of choice.delta.tool_calls ?? []) {
        const cur = tools.get(t.index) ?? { name: "", args: "" };
        if (t.id) cur.id = t.id;
        cur.name += t.function?.name ?? "";
        cur.args += t.function?.arguments ?? "";
        tools.set(t.index, cur);
      }
    }
  }
  return { content, finish, usage, tools, chunks };
}
