// The official AsyncAPI parser's verdict on each document named: one JSON line per document, with its
// errors (severity 0) and how many warnings it had; exits 1 when any document fails to parse or has errors.
import { Parser, fromFile } from '@asyncapi/parser';

const parser = new Parser();
let failed = false;
for (const path of process.argv.slice(2)) {
  const { document, diagnostics } = await fromFile(parser, path).parse();
  const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`);
  const warnings = diagnostics.filter((d) => d.severity === 1).length;
  console.log(JSON.stringify({ path, parsed: document !== undefined, errors, warnings }));
  failed ||= document === undefined || errors.length > 0;
}
process.exit(failed ? 1 : 0);
