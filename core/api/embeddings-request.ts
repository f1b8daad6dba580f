import { z } from "zod";
import { modelName } from "./chat-request.ts";

/**
 * Token ids, which OpenAI takes in place of text (LangChain's OpenAIEmbeddings sends them by default): at
 * most 8 192 per input, OpenAI's limit for every embedding model.
 */
const tokenIds = z.array(z.number().int().min(0)).min(1).max(8192);

/** OpenAI: the input "cannot be an empty string" (Gemini refuses an empty part too). */
const text = z.string().min(1, "cannot be an empty string");

export const embeddingsRequest = z
  .object({
    model: modelName,
    input: z.union([text, z.array(text).min(1).max(2048), tokenIds, z.array(tokenIds).min(1).max(2048)]),
    encoding_format: z.enum(["float", "base64"]).optional(),
    dimensions: z.number().int().positive().optional(),
    user: z.string().max(256).optional(),
  })
  .strict();

export type EmbeddingsRequest = z.infer<typeof embeddingsRequest>;

/** One input to embed: text, or the token ids of a text. */
export type EmbeddingInput = string | number[];

/** The request's inputs as a list: one string or one token array is a single input. */
export function embeddingInputs(req: EmbeddingsRequest): EmbeddingInput[] {
  const input = req.input;
  if (typeof input === "string") return [input];
  if (input.length > 0 && typeof input[0] === "number") return [input as number[]];
  return input as EmbeddingInput[];
}
