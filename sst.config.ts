/// <reference path="./.sst/platform/config.d.ts" />
export default $config({
  app() { return { name: "llm-gateway", home: "aws" }; },
  async run() {},
});
