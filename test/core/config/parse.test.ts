import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../../../core/config/defaults.ts";
import { ConfigError, jsonPath, parseConfig, parseConfigText } from "../../../core/config/parse.ts";

const SHA = "a".repeat(64);

const full = {
  $schema: "./schema/gateway-config.json",
  server: { maxBodyBytes: 1024, timeouts: { connectMs: 1000, totalMs: 60_000 } },
  providers: [
    { id: "openai", kind: "openai", apiKeyEnv: "OPENAI_API_KEY", region: "us", models: ["gpt-4o"] },
    {
      id: "claude",
      kind: "anthropic",
      baseUrl: "https://api.anthropic.com",
      baseUrlEnv: "ANTHROPIC_BASE_URL",
      apiKeyEnv: "ANTHROPIC_API_KEY",
      region: "eu",
      timeouts: { firstByteMs: 30_000, idleMs: 10_000 },
    },
  ],
  models: [
    {
      alias: "smart",
      strategy: "loadbalance",
      targets: [
        { provider: "openai", model: "gpt-4o", weight: 2 },
        { provider: "claude", model: "claude-sonnet-4-5", region: "us", timeouts: { idleMs: 5000 } },
      ],
    },
  ],
  orgs: [{ id: "acme", name: "Acme", allowedRegions: ["eu"] }],
  keys: [{ id: "k1", org: "acme", role: "admin", name: "ops", sha256: SHA, models: ["smart"] }],
};

/** A valid config to start each bad case from; `mutate` breaks one thing. */
function base() {
  return structuredClone({
    providers: [
      { id: "p1", kind: "openai" },
      { id: "p2", kind: "mock" },
    ],
    models: [
      {
        alias: "m",
        targets: [
          { provider: "p1", model: "x" },
          { provider: "p2", model: "y" },
        ],
      },
    ],
    orgs: [{ id: "o1" }],
    keys: [{ id: "k1", org: "o1", sha256: SHA }],
  }) as Record<string, Array<Record<string, unknown>>>;
}

function pathOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).path;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("accepts an empty object and fills every default", () => {
    expect(parseConfig({})).toEqual({
      server: { maxBodyBytes: 4 * 1024 * 1024 },
      providers: [],
      models: [],
      orgs: [],
      keys: [],
    });
  });

  it("defaults server.maxBodyBytes to 4 MiB when server is given without it", () => {
    expect(parseConfig({ server: {} }).server.maxBodyBytes).toBe(4 * 1024 * 1024);
  });

  it("defaults a provider's region to global and its models to none", () => {
    const cfg = parseConfig({ providers: [{ id: "p", kind: "mock" }] });
    expect(cfg.providers[0]).toEqual({ id: "p", kind: "mock", region: "global", models: [] });
  });

  it("takes a provider header value in Latin-1, which a header's bytes can carry", () => {
    const cfg = parseConfig({ providers: [{ id: "p", kind: "mock", headers: { "x-team": "équipe\tÿ" } }] });
    expect(cfg.providers[0]?.headers).toEqual({ "x-team": "équipe\tÿ" });
  });

  it("defaults a model's strategy to fallback and a key's role to api", () => {
    const cfg = parseConfig(base());
    expect(cfg.models[0]?.strategy).toBe("fallback");
    expect(cfg.keys[0]?.role).toBe("api");
  });

  it("keeps every field of a full config as written", () => {
    const cfg = parseConfig(full);
    expect(cfg).toEqual({
      ...full,
      providers: [{ ...full.providers[0] }, { ...full.providers[1], models: [] }],
    });
  });

  it("accepts the built-in DEFAULT_CONFIG unchanged", () => {
    expect(parseConfig(DEFAULT_CONFIG)).toEqual(DEFAULT_CONFIG);
  });

  type Cfg = ReturnType<typeof base>;
  const bad: Array<[string, (c: Cfg) => unknown, string]> = [
    [
      "an unknown provider kind",
      (c) => Object.assign(c.providers![1]!, { kind: "azure" }),
      "providers[1].kind",
    ],
    ["an uppercase provider id", (c) => Object.assign(c.providers![0]!, { id: "OpenAI" }), "providers[0].id"],
    ...[
      "PATH",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "SST_KEY",
      "GATEWAY_ADMIN_KEY",
      "OPENAI_APIKEY",
    ].map((name): [string, (c: Cfg) => unknown, string] => [
      `a provider key read from ${name}, a variable that holds no provider key or is the platform's`,
      (c) => Object.assign(c.providers![0]!, { apiKeyEnv: name }),
      "providers[0].apiKeyEnv",
    ]),
    [
      "a base URL read from a variable not named for one",
      (c) => Object.assign(c.providers![0]!, { baseUrlEnv: "AWS_SECRET_ACCESS_KEY" }),
      "providers[0].baseUrlEnv",
    ],
    [
      "a non-http baseUrl",
      (c) => Object.assign(c.providers![0]!, { baseUrl: "ftp://x" }),
      "providers[0].baseUrl",
    ],
    [
      "a baseUrl with an uppercase scheme, which the JSON Schema refuses too",
      (c) => Object.assign(c.providers![0]!, { baseUrl: "HTTP://llm.example.com/v1" }),
      "providers[0].baseUrl",
    ],
    [
      "a baseUrl with a password in it, which would be stored and audited as it is",
      (c) => Object.assign(c.providers![0]!, { baseUrl: "https://admin:S3cret@llm.example.com/v1" }),
      "providers[0].baseUrl",
    ],
    ...[
      " https://llm.example.com/v1",
      "https://llm.example.com/v1\u00a0",
      "\ufeffhttps://llm.example.com",
      "https://llm.exa\nmple.com/v1",
      "https://llm.example.com/v\t1",
      "https://llm.example.com/v1\u2066",
      "https://llm.example.com/v\u061c1",
      "https://llm\u034f.example.com/v1",
      "https://llm.example.com/v1\udb40\udc20",
      "https://bücher.example/v1",
    ].map((baseUrl): [string, (c: Cfg) => unknown, string] => [
      `a baseUrl with a character outside printable ASCII (${JSON.stringify(baseUrl)}), which URL parsing would drop or percent-encode`,
      (c) => Object.assign(c.providers![0]!, { baseUrl }),
      "providers[0].baseUrl",
    ]),
    [
      "a baseUrl whose port is past 65535",
      (c) => Object.assign(c.providers![0]!, { baseUrl: "http://llm.example.com:99999/v1" }),
      "providers[0].baseUrl",
    ],
    [
      "an org naming a region twice",
      (c) => Object.assign(c.orgs![0]!, { allowedRegions: ["eu", "eu"] }),
      "orgs[0].allowedRegions",
    ],
    [
      "a lowercase apiKeyEnv",
      (c) => Object.assign(c.providers![0]!, { apiKeyEnv: "key" }),
      "providers[0].apiKeyEnv",
    ],
    [
      "a negative timeout",
      (c) => Object.assign(c.providers![0]!, { timeouts: { idleMs: -1 } }),
      "providers[0].timeouts.idleMs",
    ],
    [
      "a timeout longer than a Node timer can wait (it would fire at once)",
      (c) => Object.assign(c.providers![0]!, { timeouts: { totalMs: 3_000_000_000 } }),
      "providers[0].timeouts.totalMs",
    ],
    [
      "an unknown timeout field",
      (c) => Object.assign(c.providers![0]!, { timeouts: { readMs: 1 } }),
      "providers[0].timeouts.readMs",
    ],
    ["a duplicate provider id", (c) => Object.assign(c.providers![1]!, { id: "p1" }), "providers[1].id"],
    ...(
      [
        ["a credential as a provider header", "x-api-key", "sk-secret"],
        ["the Anthropic version as a provider header", "anthropic-version", "2099-01-01"],
        ["a provider header named in uppercase", "Anthropic-Beta", "x"],
        ["a provider header name with a space", "my header", "x"],
      ] as const
    ).map(([what, name, value]): [string, (c: Cfg) => unknown, string] => [
      what,
      (c) => Object.assign(c.providers![0]!, { headers: { [name]: value } }),
      `providers[0].headers.${name}`,
    ]),
    [
      "a provider header value that would start another header",
      (c) => Object.assign(c.providers![0]!, { headers: { "anthropic-beta": "a\r\nx-api-key: b" } }),
      "providers[0].headers.anthropic-beta",
    ],
    [
      "a provider header value with a control character, which the HTTP client refuses on every call",
      (c) => Object.assign(c.providers![0]!, { headers: { "anthropic-beta": "a\u0001b" } }),
      "providers[0].headers.anthropic-beta",
    ],
    [
      "a load-balance weight past 1 000 000 (weights must add up to a finite number)",
      (c) => ((c.models![0]!.targets as Array<Record<string, unknown>>)[0]!.weight = 1e308),
      "models[0].targets[0].weight",
    ],
    ...["中文", "🚀"].map((value): [string, (c: Cfg) => unknown, string] => [
      `a provider header value with ${value}, past Latin-1, which a header's bytes cannot carry`,
      (c) => Object.assign(c.providers![0]!, { headers: { "x-team": value } }),
      "providers[0].headers.x-team",
    ]),

    [
      "a target naming an unknown provider",
      (c) => ((c.models![0]!.targets as Cfg["keys"])[1]!.provider = "nope"),
      "models[0].targets[1].provider",
    ],
    ["a model without targets", (c) => Object.assign(c.models![0]!, { targets: [] }), "models[0].targets"],
    ["an alias containing '/'", (c) => Object.assign(c.models![0]!, { alias: "a/b" }), "models[0].alias"],
    [
      "an unknown strategy",
      (c) => Object.assign(c.models![0]!, { strategy: "random" }),
      "models[0].strategy",
    ],
    ["a duplicate alias", (c) => c.models!.push(structuredClone(c.models![0]!)), "models[1].alias"],
    ["a duplicate org id", (c) => c.orgs!.push({ id: "o1" }), "orgs[1].id"],
    ["an org named like the gateway's own audit chain", (c) => c.orgs!.push({ id: "system" }), "orgs[1].id"],
    ["two keys with one secret", (c) => c.keys!.push({ ...c.keys![0]!, id: "k-copy" }), "keys[1].sha256"],
    [
      "an empty allowedRegions, which would refuse every request",
      (c) => Object.assign(c.orgs![0]!, { allowedRegions: [] }),
      "orgs[0].allowedRegions",
    ],
    [
      "a region allowed twice",
      (c) => Object.assign(c.orgs![0]!, { allowedRegions: ["eu", "eu"] }),
      "orgs[0].allowedRegions",
    ],
    ["a key in an unknown org", (c) => Object.assign(c.keys![0]!, { org: "ghost" }), "keys[0].org"],
    [
      "a key whose sha256 is not hex",
      (c) => Object.assign(c.keys![0]!, { sha256: "Z".repeat(64) }),
      "keys[0].sha256",
    ],
    [
      "a key whose sha256 is too short",
      (c) => Object.assign(c.keys![0]!, { sha256: "ab" }),
      "keys[0].sha256",
    ],
    ["a duplicate key id", (c) => c.keys!.push({ id: "k1", org: "o1", sha256: SHA }), "keys[1].id"],
    ["an unknown key role", (c) => Object.assign(c.keys![0]!, { role: "root" }), "keys[0].role"],
    ["an unknown top-level field", (c) => Object.assign(c, { extra: true }), "extra"],
    [
      "a body limit above 10 MiB",
      (c) => Object.assign(c, { server: { maxBodyBytes: 11 * 1024 * 1024 } }),
      "server.maxBodyBytes",
    ],
    ["providers that are not an array", (c) => Object.assign(c, { providers: {} }), "providers"],
    [
      "a retry base delay past its ceiling",
      (c) => Object.assign(c.models![0]!, { retry: { baseDelayMs: 5_000, maxDelayMs: 100 } }),
      "models[0].retry.baseDelayMs",
    ],
    [
      "a retry base delay past the default ceiling",
      (c) => Object.assign(c.models![0]!, { retry: { baseDelayMs: 2_001 } }),
      "models[0].retry.baseDelayMs",
    ],
    ["a key allowed no model", (c) => Object.assign(c.keys![0]!, { models: [] }), "keys[0].models"],
    [
      "a budget limit below the nano-dollar budgets count in",
      (c) => Object.assign(c.orgs![0]!, { budgets: [{ period: "day", limitUsd: 1e-12 }] }),
      "orgs[0].budgets[0].limitUsd",
    ],
    [
      "a budget limit above what its counters count exactly",
      (c) => Object.assign(c.keys![0]!, { budgets: [{ period: "month", limitUsd: 1e308 }] }),
      "keys[0].budgets[0].limitUsd",
    ],
  ];

  it.each(bad)("rejects %s, naming the path", (_what, mutate, path) => {
    const cfg = base();
    mutate(cfg);
    expect(pathOf(() => parseConfig(cfg))).toBe(path);
  });

  it.each<[string, (c: Cfg) => unknown, string]>([
    ["a provider's id", (c) => delete c.providers![0]!.id, "providers[0].id: required, but missing"],
    ["a provider's kind", (c) => delete c.providers![0]!.kind, "providers[0].kind: required, but missing"],
    [
      "a budget's period",
      (c) => Object.assign(c.orgs![0]!, { budgets: [{ limitUsd: 1 }] }),
      "orgs[0].budgets[0].period: required, but missing",
    ],
  ])("says %s left out is required, not a type mismatch", (_what, mutate, message) => {
    const cfg = base();
    mutate(cfg);
    expect(() => parseConfig(cfg)).toThrow(message);
  });

  it.each([
    [
      '{"providers":[{"id":"p","kind":"openai","headers":{"__proto__":"v","x-kept":"yes"}}]}',
      "providers[0].headers.__proto__",
    ],
    [
      '{"providers":[{"id":"p","kind":"openai","prices":{"__proto__":{"inputPerMTok":1,"outputPerMTok":1}}}]}',
      "providers[0].prices.__proto__",
    ],
  ])("refuses an entry named __proto__, which parsing would drop without a word (%s)", (text, path) => {
    expect(() => parseConfigText(text, "gateway.json")).toThrow(`${path}: '__proto__' cannot name an entry`);
  });

  it("takes a retry ceiling alone under the default base: a plain cap on every delay", () => {
    const cfg = base();
    Object.assign(cfg.models![0]!, { retry: { maxDelayMs: 50 } });
    expect(parseConfig(cfg).models[0]?.retry).toEqual({ maxDelayMs: 50 });
  });

  it("says which numbers clash when a retry base passes its ceiling", () => {
    const cfg = base();
    Object.assign(cfg.models![0]!, { retry: { baseDelayMs: 5_000 } });
    expect(() => parseConfig(cfg)).toThrow(
      "models[0].retry.baseDelayMs: 5000 exceeds maxDelayMs (2000, the default)",
    );
  });

  it("names the unknown top-level field in the message", () => {
    expect(() => parseConfig({ extra: 1 })).toThrow(/extra/);
  });

  it("rejects a config that is not an object", () => {
    expect(() => parseConfig(null)).toThrow(ConfigError);
    expect(() => parseConfig([])).toThrow(ConfigError);
  });

  it.each([
    ["Authorization", "header names are lowercase RFC 9110 tokens"],
    ["x-api-key", "the gateway sets this header itself"],
  ])("says why a provider header name %s is refused, not just that the key is invalid", (name, why) => {
    const cfg = base();
    Object.assign(cfg.providers![0]!, { headers: { [name]: "x" } });
    expect(() => parseConfig(cfg)).toThrow(`providers[0].headers.${name}: ${why}`);
  });

  it("says which target names an unknown provider", () => {
    const cfg = base();
    (cfg.models![0]!.targets as Cfg["keys"])[1]!.provider = "nope";
    expect(() => parseConfig(cfg)).toThrow("models[0].targets[1].provider: unknown provider 'nope'");
  });
});

describe("a budget's limit", () => {
  it.each([
    [0.0500000009, 0.05],
    [1.0000000019, 1.000000001],
    [0.07, 0.07],
    [9_000_000, 9_000_000],
  ])("of $%d is kept as it is enforced, rounded down to the nano-dollar: $%d", (given, kept) => {
    const config = parseConfig({ orgs: [{ id: "acme", budgets: [{ period: "day", limitUsd: given }] }] });
    expect(config.orgs[0]?.budgets?.[0]?.limitUsd).toBe(kept);
  });
});

describe("parseConfigText", () => {
  it("parses valid JSON text", () => {
    expect(parseConfigText(JSON.stringify(base()), "gateway.json").providers).toHaveLength(2);
  });

  it("reports invalid JSON as a ConfigError with an empty path naming the source", () => {
    expect(pathOf(() => parseConfigText("{ nope", "gateway.json"))).toBe("");
    expect(() => parseConfigText("{ nope", "gateway.json")).toThrow(/gateway\.json is not valid JSON/);
  });

  it("applies the schema after parsing", () => {
    expect(pathOf(() => parseConfigText('{"keys":[{"id":"k","org":"x","sha256":"00"}]}', "f"))).toBe(
      "keys[0].sha256",
    );
  });
});

describe("jsonPath", () => {
  it.each([
    [[], ""],
    [["server"], "server"],
    [["models", 0, "targets", 1, "provider"], "models[0].targets[1].provider"],
    [[0, "a"], "[0].a"],
  ] as Array<[PropertyKey[], string]>)("renders %j as '%s'", (path, out) => {
    expect(jsonPath(path)).toBe(out);
  });
});
