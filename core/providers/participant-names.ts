/**
 * Whether a message's `name` names a participant, which a provider without participant names may not
 * drop: a user's or a system prompt's name changes what the model is told. An assistant's is the model's
 * own label (LangChain's agents name theirs "model"), and a tool result's is its tool's, which the call
 * it answers already names: both are dropped where a provider has nowhere to put them.
 */
export const namesParticipant = (role: string): boolean => role !== "assistant" && role !== "tool";
