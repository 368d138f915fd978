#!/usr/bin/env node
// oc-hammer.mjs — a real OpenClaw writer for the concurrency test: calls OpenClaw's own
// markAuthProfileFailure COUNT times on one profile of an agent dir (each call reloads the
// store from disk under OpenClaw's lock / SQLite transaction, as the gateway does).
//
// Usage: node oc-hammer.mjs --agent-dir DIR --profile ID --reason billing --count N
//        [--openclaw-dir PKG] [--pause-ms 2]
// Prints "ready" once OpenClaw is loaded, then "done <n>".
import path from "node:path";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const args = {};
for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, "")] = argv[i + 1];
const agentDir = path.resolve(args["agent-dir"]);
const layout = agentDir.match(/^(.*)\/agents\/([^/]+)\/agent$/);
if (layout) process.env.OPENCLAW_STATE_DIR = layout[1];
process.env.OPENCLAW_LOG_LEVEL ??= "error";
const here = path.dirname(fileURLToPath(import.meta.url));
const { loadOpenClaw } = await import(path.join(here, "oc-locate.mjs"));
const oc = await loadOpenClaw(args["openclaw-dir"]);
const count = Number(args.count ?? 20);
const pause = Number(args["pause-ms"] ?? 2);
process.stdout.write("ready\n");
let n = 0;
for (let i = 0; i < count; i++) {
  const store = oc.loadAuthProfileStoreWithoutExternalProfiles(agentDir);
  await oc.markAuthProfileFailure({ store, profileId: args.profile, reason: args.reason ?? "billing", agentDir, runId: `hammer-${i}` });
  n++;
  if (pause) await new Promise((r) => setTimeout(r, pause));
}
process.stdout.write(`done ${n}\n`);
process.exit(0);
