import { z } from "zod";
import { assistantMessage, chatMessage, chatRequest, textPart, toolDefinition } from "./chat-request.ts";
import {
  emptyAssistantMessage,
  orphanToolResult,
  oversizedSchema,
  streamOptionsWithoutStream,
  toolChoiceOutsideTools,
  toolChoiceWithoutTools,
  topLogprobsWithoutLogprobs,
  unansweredToolCalls,
} from "./conversation-rules.ts";

/**
 * OpenAI's assistant content may hold refusal parts (`{type: "refusal", refusal}`), as a model's
 * refused turn comes back into a history. The gateway reads a refusal from the message's `refusal`
 * field (refusal-parts.ts moves it there), so only the input takes the parts.
 */
const refusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() }).strict();
const assistantInput = assistantMessage.extend({
  content: z
    .union([z.string(), z.array(z.discriminatedUnion("type", [textPart, refusalPart])).min(1)])
    .nullable()
    .optional(),
});

const [system, developer, user, , tool] = chatMessage.options;

/**
 * What a caller may send: the gateway's request (chat-request.ts), plus OpenAI's deprecated function
 * calling (`functions`, `function_call`, and `function` messages with a function's result), which the
 * gateway takes as the tools it became (core/gateway/legacy-functions.ts) before anything else reads
 * the request. The rules across fields (conversation-rules.ts) run once every field is valid, and a
 * breach is a 400 naming its field like any other.
 */
export const chatRequestInput = chatRequest
  .extend({
    messages: z
      .array(
        z.discriminatedUnion("role", [
          system,
          developer,
          user,
          assistantInput,
          tool,
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
  })
  .superRefine((req, ctx) => {
    for (const breach of [
      orphanToolResult(req.messages),
      unansweredToolCalls(req.messages),
      emptyAssistantMessage(req.messages),
      oversizedSchema(req),
      toolChoiceWithoutTools(req),
      toolChoiceOutsideTools(req),
      topLogprobsWithoutLogprobs(req),
      streamOptionsWithoutStream(req),
    ])
      if (breach) ctx.addIssue({ code: "custom", ...breach });
  });

export type ChatRequestInput = z.infer<typeof chatRequestInput>;
