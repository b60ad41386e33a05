// Builds the vendored browser bundles of fwgraph's pages with esbuild: one minified IIFE file per bundle,
// written to src/fwgraph/app/static/vendor/ with the licences of everything bundled and their sizes; and copies
// the files used as they are published (axe-core's axe.min.js, which only the browser tests inject: no page loads it).
// Run from this directory: npm ci && node build.mjs
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "src", "fwgraph", "app", "static", "vendor");
const bundles = [
  { entry: "editor-entry.js", file: "codemirror.js", global: "FwgraphCodeMirror" },
  { entry: "charts-entry.js", file: "charts.js", global: "FwgraphCharts" },
];
// Published files copied unchanged: [package, file in the package, file in vendor/].
const copies = [["axe-core", "axe.min.js", "axe.min.js"]];

mkdirSync(out, { recursive: true });
const included = new Set();
for (const b of bundles) {
  const result = await build({
    entryPoints: [join(here, b.entry)], bundle: true, minify: true, format: "iife", globalName: b.global,
    target: ["es2020"], legalComments: "none", metafile: true, write: false, charset: "utf8",
  });
  const code = result.outputFiles[0].contents;
  const banner = `/* ${b.file}: ${b.global}, built by tools/vendor/build.mjs; licences in LICENSE */\n`;
  writeFileSync(join(out, b.file), Buffer.concat([Buffer.from(banner), code]));
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (m) included.add(m[1]);
  }
  const size = code.length + banner.length;
  console.log(`${b.file}: ${(size / 1024).toFixed(1)} KiB, gzip ${(gzipSync(code, { level: 9 }).length / 1024).toFixed(1)} KiB`);
}

for (const [name, file, target] of copies) {
  const code = readFileSync(join(here, "node_modules", name, file));
  writeFileSync(join(out, target), code);
  included.add(name);
  console.log(`${target}: ${(code.length / 1024).toFixed(1)} KiB (${name}/${file}, unchanged)`);
}

// One LICENSE file with the licence text of every package bundled, and their versions.
const names = [...included].sort();
let license = "Licences of the packages bundled into codemirror.js and charts.js, and copied as axe.min.js (by tools/vendor/build.mjs).\n";
for (const name of names) {
  const dir = join(here, "node_modules", name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const text = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"].map((f) => {
    try { return readFileSync(join(dir, f), "utf8"); } catch { return null; }
  }).find((t) => t !== null);
  if (!text) throw new Error(`no licence file in ${name}`);
  license += `\n${"=".repeat(78)}\n${name} ${pkg.version} (${pkg.license})\n${"=".repeat(78)}\n\n${text.trim()}\n`;
}
writeFileSync(join(out, "LICENSE"), license);
console.log("bundled: " + names.join(", "));
