export { startAnthropicSimulator } from "./anthropic.ts";
export { startGeminiSimulator } from "./gemini.ts";
export { startOpenAISimulator } from "./openai.ts";
export type {
  Fault,
  RecordedRequest,
  Script,
  ScriptToolCall,
  ScriptUsage,
  Simulator,
  SimulatorOptions,
} from "./types.ts";
export { DEFAULT_API_KEY } from "./types.ts";
