// Render-time benchmark of a 50 KB markdown response with 20 code blocks (marked + highlight.js + KaTeX +
// DOMPurify + DOM insertion), in Node with jsdom standing in for the browser DOM. Also: word-diff time of two
// 50 KB responses, and the bundle size gzipped. Run: `cd js && npm run build && node bench/render.mjs`.
// Chromium numbers come from bench/render_chromium.py (same document, real browser).

import { mkdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { JSDOM } from "jsdom";
import { codeBlockCount, makeDoc } from "./make_doc.mjs";

const RUNS = 30;
const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const k of [
  "Node",
  "Element",
  "HTMLElement",
  "DocumentFragment",
  "NodeFilter",
  "DOMParser",
  "HTMLTemplateElement",
]) {
  globalThis[k] = dom.window[k];
}

mkdirSync("bench/.out", { recursive: true });
await esbuild.build({
  entryPoints: { markdown: "src/markdown.ts", diff: "src/diff.ts" },
  bundle: true,
  format: "esm",
  platform: "node",
  outdir: "bench/.out",
  outExtension: { ".js": ".mjs" },
  logLevel: "warning",
});
// The same code for the browser measurement (bench/render_chromium.py loads it into a blank Chromium page).
await esbuild.build({
  stdin: {
    contents:
      'import { renderMarkdown } from "./src/markdown";\nimport { wordDiff } from "./src/diff";\n' +
      'import { makeDoc } from "./bench/make_doc.mjs";\nwindow.rwBench = { renderMarkdown, wordDiff, makeDoc };\n',
    resolveDir: ".",
    loader: "ts",
  },
  bundle: true,
  format: "iife",
  minify: true,
  target: ["es2020"],
  outfile: "bench/.out/bench_browser.js",
  define: { amd: "false" },
  logLevel: "warning",
});
const { renderMarkdown, markdownToHtml } = await import(pathToFileURL("bench/.out/markdown.mjs").href);
const { wordDiff } = await import(pathToFileURL("bench/.out/diff.mjs").href);

const doc = makeDoc();
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p95: q(0.95), min: s[0], max: s[s.length - 1] };
};
const time = (fn) => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};

const host = document.createElement("div");
document.body.append(host);
const cold = time(() => host.replaceChildren(renderMarkdown(doc, { allowRemoteImages: false })));
const full = [];
const parse = [];
for (let i = 0; i < RUNS; i++) {
  full.push(time(() => host.replaceChildren(renderMarkdown(doc, { allowRemoteImages: false }))));
  parse.push(time(() => markdownToHtml(doc)));
}
const b = doc.replace(/smaller instances/g, "smaller copies").replace(/Step 7/, "Stage 7");
const diff = [];
for (let i = 0; i < 10; i++) diff.push(time(() => wordDiff(doc, b)));

const fmt = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Number(v.toFixed(2))]));
const js = readFileSync("../src/rank_widget/static/widget.js");
const css = readFileSync("../src/rank_widget/static/widget.css");
const result = {
  node: process.version,
  cpu: cpus()[0]?.model,
  nproc: cpus().length,
  doc_bytes: Buffer.byteLength(doc),
  code_blocks: codeBlockCount(doc),
  rendered_pre_blocks: host.querySelectorAll("pre").length,
  math_elements: host.querySelectorAll("math").length,
  cold_ms: Number(cold.toFixed(2)),
  render_ms: fmt(stats(full)),
  markdown_to_html_ms: fmt(stats(parse)),
  word_diff_50kb_ms: fmt(stats(diff)),
  bundle_js_bytes: js.length,
  bundle_js_gzip_bytes: gzipSync(js, { level: 9 }).length,
  bundle_css_bytes: css.length,
  bundle_css_gzip_bytes: gzipSync(css, { level: 9 }).length,
};
result.bundle_total_gzip_bytes = result.bundle_js_gzip_bytes + result.bundle_css_gzip_bytes;
console.log(JSON.stringify(result, null, 2));
