export type { ProviderKind } from "../providers/types.ts";
export type {
  BreakerConfig,
  BudgetConfig,
  GatewayConfig,
  KeyConfig,
  ModelConfig,
  OrgConfig,
  PriceConfig,
  ProviderConfig,
  RateLimitConfig,
  RetryConfig,
  TargetConfig,
  Timeouts,
} from "./schema.ts";
