import { z } from "zod";
import { chatMessage, chatRequest, toolDefinition } from "./chat-request.ts";

/**
 * What a caller may send: the gateway's request (chat-request.ts), plus OpenAI's deprecated function
 * calling (`functions`, `function_call`, and `function` messages with a function's result), which the
 * gateway takes as the tools it became (core/gateway/legacy-functions.ts) before anything else reads
 * the request.
 */
export const chatRequestInput = chatRequest.extend({
  messages: z
    .array(
      z.discriminatedUnion("role", [
        ...chatMessage.options,
        z
          .object({
            role: z.literal("function"),
            name: z.string().min(1).max(64),
            content: z.string().nullable(),
          })
          .strict(),
      ]),
    )
    .min(1),
  functions: z.array(toolDefinition.shape.function).min(1).max(128).optional(),
  function_call: z
    .union([z.enum(["none", "auto"]), z.object({ name: z.string().min(1) }).strict()])
    .optional(),
});

export type ChatRequestInput = z.infer<typeof chatRequestInput>;
