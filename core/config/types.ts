export type { ProviderKind } from "../providers/types.ts";
export type {
  BudgetConfig,
  PriceConfig,
  RateLimitConfig,
  BreakerConfig,
  GatewayConfig,
  KeyConfig,
  ModelConfig,
  OrgConfig,
  ProviderConfig,
  RetryConfig,
  TargetConfig,
  Timeouts,
} from "./schema.ts";
