import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/temp-dir.setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Two cores: e2e suites start servers and simulators; more workers only add contention.
    maxWorkers: 2,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
