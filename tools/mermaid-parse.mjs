// Parses Mermaid diagrams with Mermaid's own parser (the npm package `mermaid`, with jsdom for the
// DOM it expects), headless: MERMAID_MODULES=DIR node tools/mermaid-parse.mjs FILE...
// DIR is where `npm install mermaid jsdom` put node_modules (outside the repository). Each FILE is
// Markdown whose ```mermaid blocks are parsed (or a bare diagram). Prints each diagram's type;
// exits 1 at the first that does not parse, or when there is none.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const dir = process.env.MERMAID_MODULES;
if (!dir) {
  console.error('set MERMAID_MODULES to the directory that holds node_modules/mermaid');
  process.exit(2);
}
const require = createRequire(pathToFileURL(`${dir}/`).href);
const load = async (name) => import(pathToFileURL(require.resolve(name)).href);
const { JSDOM } = await load('jsdom');
const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await load('mermaid')).default;
mermaid.initialize({ startOnLoad: false });

let n = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  const blocks = [...text.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
  for (const d of blocks.length ? blocks : [text]) {
    try {
      const r = await mermaid.parse(d);
      n += 1;
      console.log(`${file}: ${r.diagramType} parses`);
    } catch (e) {
      console.error(`${file}: ${e.message ?? e}`);
      process.exit(1);
    }
  }
}
if (n === 0) {
  console.error('no diagram found');
  process.exit(1);
}
