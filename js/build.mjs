// Bundles js/src into src/rank_widget/static/{widget.js,widget.css}: one ES module + one CSS file.

import { mkdirSync } from "node:fs";
import * as esbuild from "esbuild";

const outdir = "../src/rank_widget/static";
mkdirSync(outdir, { recursive: true });
const watch = process.argv.includes("--watch");
const options = {
  entryPoints: { widget: "src/index.ts" },
  bundle: true,
  format: "esm",
  minify: !watch,
  target: ["es2020"],
  outdir,
  // anywidget loads an ES module; a stray `define.amd` on the page must not hijack UMD deps.
  define: { amd: "false" },
  loader: { ".woff2": "empty", ".woff": "empty", ".ttf": "empty" },
  logLevel: "info",
};
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
