#!/usr/bin/env node
// oc-agentdir.mjs — ask the installed OpenClaw (npm `openclaw`) where each agent of a config
// keeps its store: {"<id>": "<agentDir>"} for every id its listAgentIds gives, from its own
// resolveAgentDir (the same function the gateway calls). Reads nothing but the config file.
//
// Usage: node oc-agentdir.mjs <openclaw.json> [--openclaw-dir DIR]
import fs from "node:fs";
import { importChunkByExports, resolveOpenClawPkgDir } from "./oc-locate.mjs";

const [configPath, flag, dir] = process.argv.slice(2);
const pkgDir = resolveOpenClawPkgDir(flag === "--openclaw-dir" ? dir : undefined);
const cfg = JSON.parse(fs.readFileSync(configPath, "utf8"));
const { fns } = await importChunkByExports(
  pkgDir,
  ["resolveAgentDir", "listAgentIds"],
  "agent-scope-config-",
);
const out = {};
for (const id of fns.listAgentIds(cfg)) out[id] = fns.resolveAgentDir(cfg, id, process.env);
process.stdout.write(JSON.stringify(out) + "\n");
