// Worker thread running @mlc-ai/web-xgrammar for bench/structure.ts. The package ships a UMD bundle inside a
// "type": "module" package, so Node refuses to require() it; compiling its source as CommonJS here sidesteps that.
'use strict';
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

function loadXGrammar() {
  const file = require.resolve('@mlc-ai/web-xgrammar/lib/index.js', { paths: [process.cwd()] });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  mod._compile(fs.readFileSync(file, 'utf8'), file);
  return mod.exports;
}

const xg = loadXGrammar();
let compiler;

async function init(msg) {
  const info = await xg.TokenizerInfo.createTokenizerInfo(msg.vocab, 'byte_level', false, msg.vocab.length, [msg.eos]);
  compiler = await xg.GrammarCompiler.createGrammarCompiler(info, false);
}

async function run(msg) {
  const t0 = performance.now();
  let compiled;
  try {
    // Compact one-line JSON (indent -1) like the instances, and JSON Schema semantics for extra properties (strictMode false).
    compiled = await compiler.compileJSONSchema(msg.schema, false, -1, [',', ':'], false);
  } catch (e) {
    return { compileError: String(e && e.message ? e.message : e).slice(0, 200) };
  }
  const first = await xg.GrammarMatcher.createGrammarMatcher(compiled);
  await first.getNextTokenBitmask();
  const ttfm = performance.now() - t0;
  first.dispose();
  const tbm = [];
  const verdicts = [];
  for (const tokens of msg.tests) {
    const m = await xg.GrammarMatcher.createGrammarMatcher(compiled);
    let ok = true;
    for (const id of [...tokens, msg.eos]) {
      const s = performance.now();
      const mask = await m.getNextTokenBitmask();
      const allowed = ((mask[id >>> 5] >>> (id & 31)) & 1) === 1;
      const accepted = allowed && m.acceptToken(id);
      tbm.push(performance.now() - s);
      if (!accepted) {
        ok = false;
        break;
      }
    }
    verdicts.push(ok && m.isTerminated());
    m.dispose();
  }
  compiled.dispose();
  return { ttfm, tbm, verdicts };
}

parentPort.on('message', async (msg) => {
  try {
    if (msg.type === 'init') {
      await init(msg);
      parentPort.postMessage({ ready: true });
    } else parentPort.postMessage(await run(msg));
  } catch (e) {
    parentPort.postMessage({ crash: String(e && e.message ? e.message : e).slice(0, 200) });
  }
});
