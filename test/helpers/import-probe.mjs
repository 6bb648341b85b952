// Imports the module named on the command line, runs the given async
// expression against it, and prints which npm packages were resolved and
// which native (.node) modules the process loaded, as JSON.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
const resolved = new Set();
port1.on('message', (url) => resolved.add(url));
const hooks = `let port;
export function initialize(d) { port = d.port; }
export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { port: port2 }, transferList: [port2] });

const mod = await import(process.argv[2]);
if (process.argv[3]) await new Function('m', `return (async () => { ${process.argv[3]} })();`)(mod);
await new Promise((r) => setTimeout(r, 50));
port1.close();
const packages = [...new Set([...resolved].map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1]).filter(Boolean))].sort();
const natives = process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node'));
console.log(JSON.stringify({ packages, natives }));
