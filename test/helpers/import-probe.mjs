// Imports the module named on the command line and, when a second path names
// a "use" module, awaits that module's default export (an async function)
// called with it; then prints which npm packages were resolved and which
// native (.node) modules the process loaded, as JSON.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
/** @type {Set<string>} */
const resolved = new Set();
port1.on('message', (/** @type {string} */ url) => resolved.add(url));
const hooks = `let port;
export function initialize(d) { port = d.port; }
export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { port: port2 }, transferList: [port2] });

const [entry, usePath] = process.argv.slice(2);
const mod = /** @type {unknown} */ (await import(entry));
if (usePath) {
  /** @type {unknown} */
  const imported = await import(usePath);
  const use = /** @type {{ default: (m: unknown) => Promise<void> }} */ (imported);
  await use.default(mod);
}
await new Promise((r) => setTimeout(r, 50));
port1.close();
const packages = [...new Set([...resolved].map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1]).filter(Boolean))].sort();
const report = /** @type {{ sharedObjects: string[] }} */ (process.report.getReport());
const natives = report.sharedObjects.filter((f) => f.endsWith('.node'));
console.log(JSON.stringify({ packages, natives }));
