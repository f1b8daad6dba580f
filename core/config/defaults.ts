import type { GatewayConfig, ProviderKind } from "./types.ts";

/** Public endpoints per provider kind. OpenAI's includes `/v1` as its SDKs expect; the others do not. */
export const DEFAULT_BASE_URL: Record<Exclude<ProviderKind, "mock">, string> = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com",
  gemini: "https://generativelanguage.googleapis.com",
};

/**
 * What `npm start` uses without GATEWAY_CONFIG: the built-in mock provider, and the three real providers
 * switched on by their usual environment variables.
 */
export const DEFAULT_CONFIG: GatewayConfig = {
  server: { maxBodyBytes: 4 * 1024 * 1024 },
  providers: [
    { id: "mock", kind: "mock", region: "local", models: ["echo"] },
    {
      id: "openai",
      kind: "openai",
      apiKeyEnv: "OPENAI_API_KEY",
      baseUrlEnv: "OPENAI_BASE_URL",
      region: "us",
      models: [],
    },
    {
      id: "anthropic",
      kind: "anthropic",
      apiKeyEnv: "ANTHROPIC_API_KEY",
      baseUrlEnv: "ANTHROPIC_BASE_URL",
      region: "us",
      models: [],
    },
    {
      id: "gemini",
      kind: "gemini",
      apiKeyEnv: "GEMINI_API_KEY",
      baseUrlEnv: "GEMINI_BASE_URL",
      region: "us",
      models: [],
    },
  ],
  models: [{ alias: "default", strategy: "fallback", targets: [{ provider: "mock", model: "echo" }] }],
  orgs: [{ id: "default", name: "Default org" }],
  keys: [],
};
