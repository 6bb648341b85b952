/**
 * DsoConfig: everything a node needs, validated with zod. Sources, lowest
 * precedence first: defaults, a file (dso.config.json or dso.config.toml, or
 * the one --config names), environment variables (DSO_<FIELD>, e.g.
 * DSO_SYNC_FREQUENCY=50, DSO_PEERS=addr1,addr2), command-line flags
 * (--sync-frequency 50). An invalid value is an INVALID_CONFIG error that
 * names the field and the source it came from.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';

import { DsoError } from '../core/errors.js';

const hex = z.string().regex(/^0x[0-9a-fA-F]{40}$/u, 'must be a 0x-prefixed 20-byte address');

/** The HTTP API: where it listens, who may call it, and the limits that keep slow or hostile callers from holding it. */
const HttpSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    /** 'token': write endpoints (and, off loopback, every endpoint but /health) need `Authorization: Bearer <token>`. */
    auth: z.enum(['token', 'none']).default('token'),
    /** Where the token lives (created 0600 on first start); default <dataDir>/http.token. */
    tokenFile: z.string().min(1).optional(),
    /** Host header values accepted besides the bound address's own names (a reverse proxy's name). */
    allowedHosts: z.array(z.string().min(1)).default([]),
    /** Web origins allowed to call the API; a request carrying any other Origin is refused. */
    allowedOrigins: z.array(z.string().min(1)).default([]),
    /** Whole request, body included, must arrive within this. */
    requestTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** Headers must arrive within this. */
    headersTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    keepAliveTimeoutMs: z.number().int().min(100).max(600_000).default(5_000),
    /** Open connections at most; past it the oldest connection not being answered is closed. */
    maxConnections: z.number().int().min(4).max(100_000).default(256),
    maxRequestsPerSocket: z.number().int().min(1).max(1_000_000).default(1000),
    bodyLimit: z
      .number()
      .int()
      .min(1024)
      .max(64 << 20)
      .default(4 << 20),
  })
  .strict();

export const ConfigSchema = z
  .object({
    /** Network sync on/off; off, the node learns and serves locally only. */
    enabled: z.boolean().default(true),
    dataDir: z.string().min(1).default('dso-data'),
    /** Node key (created 0600 on first start); default <dataDir>/node.key. */
    keyFile: z.string().min(1).optional(),
    /** JSON-RPC URL of the chain; absent: an EVM inside this process. */
    rpcUrl: z.string().url().optional(),
    /** The ExperienceRegistry to use; absent on the in-process chain: one is deployed. */
    registryAddress: hex.optional(),
    /** Blockstore directory; default <dataDir>/blocks. */
    contentStorePath: z.string().min(1).optional(),
    network: z.string().min(1).default('dso-main'),
    /** p2p listen multiaddrs; absent: 127.0.0.1 on a port chosen at the first start and kept in the data dir. */
    listen: z.array(z.string().startsWith('/')).optional(),
    peers: z.array(z.string().startsWith('/')).default([]),
    /** Find peers from the registry: announce this node's endpoint (a member) and keep the other members' connected. */
    discovery: z.boolean().default(true),
    /** What peers may cost this node and how long it waits on them (network/peer-limits.ts); what is left out keeps its default. */
    peerLimits: z
      .object({
        maxCidsPerRequest: z.number().int().min(1).optional(),
        maxCidsPerPeer: z.number().int().min(1).optional(),
        maxBytesInFlightPerPeer: z.number().int().min(1).optional(),
        maxBytesInFlight: z.number().int().min(1).optional(),
        dialTimeoutMs: z.number().int().min(1).optional(),
        streamTimeoutMs: z.number().int().min(1).optional(),
        requestTimeoutMs: z.number().int().min(1).optional(),
      })
      .strict()
      .default({}),
    /** Optimizer steps between network syncs. */
    syncFrequency: z.number().int().min(1).default(100),
    /** Experiences from the network are merged at or above this confidence; own ones are shared at or above it. */
    acceptanceThreshold: z.number().min(0).max(1).default(0.7),
    /** Merge through the robust aggregation and vote with the robust policy (codes checked against texts, floods refused); off: every record of an accepted batch is merged. */
    byzantineRobust: z.boolean().default(true),
    /** An experience from the network is merged at or above this median confidence x share of members that endorsed it (submitted or voted yes). */
    votingThreshold: z.number().min(0).max(1).default(0.4),
    /** A record's code may differ from this node's code of its text in at most this share of bits before its batch is voted down. */
    maxCodeDistance: z.number().min(0).max(1).default(0.25),
    /** Registry events are acted on once buried under this many blocks (0 on a development chain; more where the chain can reorganise). */
    confirmations: z.number().int().min(0).max(10_000).default(0),
    library: z
      .object({
        namespace: z.string().min(1).default('default'),
        capacity: z.number().int().min(1).default(200),
        eviction: z.enum(['importance', 'temporal', 'diversity', 'hybrid']).default('hybrid'),
      })
      .default({ namespace: 'default', capacity: 200, eviction: 'hybrid' }),
    /** 'hashing', a local transformers model directory, or a table: [embedder] kind = "openai", baseUrl, model. */
    embedder: z
      .union([
        z.string().min(1),
        z.object({ kind: z.literal('hashing') }).strict(),
        z.object({ kind: z.literal('transformers'), path: z.string().min(1) }).strict(),
        z
          .object({
            kind: z.literal('openai'),
            baseUrl: z.string().url(),
            model: z.string().min(1),
            apiKeyEnv: z.string().min(1).optional(),
            dim: z.number().int().min(1).max(65_536).optional(),
            batchSize: z.number().int().min(1).max(4096).optional(),
            timeoutMs: z.number().int().min(1).optional(),
          })
          .strict(),
      ])
      .default('hashing'),
    /** The compute backend of the node's library. */
    backend: z.enum(['auto', 'native', 'webgpu', 'js']).default('auto'),
    model: z
      .object({
        baseUrl: z.string().url(),
        name: z.string().min(1),
        apiKeyEnv: z.string().min(1).default('OPENAI_API_KEY'),
        temperature: z.number().min(0).max(2).default(0.7),
        maxTokens: z.number().int().min(1).default(1024),
        concurrency: z.number().int().min(1).default(4),
      })
      .optional(),
    http: HttpSchema.default(HttpSchema.parse({})),
  })
  .strict();

export type DsoConfig = z.infer<typeof ConfigSchema>;

/** Flat keys that can come from the environment and flags: the field, how to read a string, and what it means. */
const FLAT: Record<string, { field: string[]; kind: 'string' | 'number' | 'boolean' | 'list'; help: string }> = {
  enabled: { field: ['enabled'], kind: 'boolean', help: 'network sync on/off; off, the node learns and serves locally only' },
  'data-dir': { field: ['dataDir'], kind: 'string', help: 'library.db, node.key, blocks/ and logs live here' },
  'key-file': { field: ['keyFile'], kind: 'string', help: 'the node key (created 0600 on first start; default <data-dir>/node.key)' },
  'rpc-url': {
    field: ['rpcUrl'],
    kind: 'string',
    help: 'JSON-RPC URL of the chain (anvil, a testnet); absent: an EVM inside this process',
  },
  'registry-address': { field: ['registryAddress'], kind: 'string', help: "the network's ExperienceRegistry (0x...)" },
  'content-store-path': { field: ['contentStorePath'], kind: 'string', help: 'blockstore directory (default <data-dir>/blocks)' },
  network: { field: ['network'], kind: 'string', help: 'network name: the gossip topic and the signatures are bound to it' },
  listen: {
    field: ['listen'],
    kind: 'list',
    help: 'p2p listen multiaddrs, comma-separated (default: 127.0.0.1, a port kept across restarts)',
  },
  peers: { field: ['peers'], kind: 'list', help: 'p2p addresses of other nodes (/ip4/.../tcp/.../p2p/12D3Koo...), comma-separated' },
  discovery: {
    field: ['discovery'],
    kind: 'boolean',
    help: "find peers from the registry: announce this node's p2p address (members) and dial the other members'",
  },
  'sync-frequency': { field: ['syncFrequency'], kind: 'number', help: 'learning steps between network syncs' },
  'acceptance-threshold': {
    field: ['acceptanceThreshold'],
    kind: 'number',
    help: 'share and merge experiences at or above this confidence',
  },
  'byzantine-robust': { field: ['byzantineRobust'], kind: 'boolean', help: 'merge through the Byzantine-robust aggregation' },
  'voting-threshold': {
    field: ['votingThreshold'],
    kind: 'number',
    help: 'score (median confidence x share of members that endorsed it) an experience from the network needs to be merged',
  },
  'max-code-distance': {
    field: ['maxCodeDistance'],
    kind: 'number',
    help: "share of bits a record's code may differ from this node's code of its text before the batch is voted down",
  },
  confirmations: {
    field: ['confirmations'],
    kind: 'number',
    help: 'blocks a registry event must be buried under before the node acts on it',
  },
  namespace: { field: ['library', 'namespace'], kind: 'string', help: 'library namespace' },
  capacity: { field: ['library', 'capacity'], kind: 'number', help: 'most experiences the library keeps' },
  eviction: { field: ['library', 'eviction'], kind: 'string', help: 'importance, temporal, diversity or hybrid' },
  embedder: { field: ['embedder'], kind: 'string', help: "'hashing', or a local transformers model directory" },
  backend: { field: ['backend'], kind: 'string', help: 'compute backend of the library: auto, native, webgpu or js' },
  'model-url': {
    field: ['model', 'baseUrl'],
    kind: 'string',
    help: 'an OpenAI-compatible server; absent, the node serves and syncs but does not learn',
  },
  model: { field: ['model', 'name'], kind: 'string', help: "the model's name on that server (required with --model-url)" },
  host: { field: ['http', 'host'], kind: 'string', help: 'HTTP API address' },
  port: { field: ['http', 'port'], kind: 'number', help: 'HTTP API port' },
  'http-auth': { field: ['http', 'auth'], kind: 'string', help: "'token' (write endpoints need the token) or 'none' (loopback only)" },
  'token-file': { field: ['http', 'tokenFile'], kind: 'string', help: 'the HTTP token (created 0600; default <data-dir>/http.token)' },
  'allowed-origins': { field: ['http', 'allowedOrigins'], kind: 'list', help: 'web origins allowed to call the API, comma-separated' },
  'allowed-hosts': { field: ['http', 'allowedHosts'], kind: 'list', help: 'Host header values accepted besides the bound address' },
};

/** The flags `dso node` accepts (each takes a value), with what they mean, the DSO_* variable and the default where there is one. */
export function configFlags(): Array<{ flag: string; env: string; help: string; fallback?: string }> {
  const defaults = ConfigSchema.parse({}) as Record<string, unknown>;
  return Object.entries(FLAT).map(([flag, spec]) => {
    const v = getPath(defaults, spec.field);
    const fallback = Array.isArray(v)
      ? v.join(',')
      : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : v === undefined
          ? undefined
          : JSON.stringify(v);
    return { flag, env: envName(flag), help: spec.help, fallback };
  });
}

const envName = (flag: string) => `DSO_${flag.toUpperCase().replace(/-/gu, '_')}`;

function convert(raw: string, kind: string, where: string): unknown {
  if (kind === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new DsoError('INVALID_CONFIG', `${where}: expected a number, got '${raw}'`);
    return n;
  }
  if (kind === 'boolean') {
    if (/^(1|true|yes|on)$/iu.test(raw)) return true;
    if (/^(0|false|no|off)$/iu.test(raw)) return false;
    throw new DsoError('INVALID_CONFIG', `${where}: expected true or false, got '${raw}'`);
  }
  if (kind === 'list')
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return raw;
}

function getPath(o: unknown, p: readonly PropertyKey[]): unknown {
  let cur = o;
  for (const k of p) cur = cur !== null && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}

function setPath(o: Record<string, unknown>, p: string[], v: unknown): void {
  let cur = o;
  for (const k of p.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  cur[p[p.length - 1]] = v;
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] =
      v !== null && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' && out[k] !== null && !Array.isArray(out[k])
        ? merge(out[k] as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

function readFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DsoError('INVALID_CONFIG', `cannot read config file ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const v: unknown = file.endsWith('.toml') ? parseToml(text) : JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new DsoError(
      'INVALID_CONFIG',
      `config file ${file} is not valid ${file.endsWith('.toml') ? 'TOML' : 'JSON'}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

export interface ConfigSources {
  /** A config file; default: dso.config.json or dso.config.toml in `cwd` if present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag values by flag name (without dashes), e.g. { 'sync-frequency': '50' }. */
  flags?: Record<string, string | undefined>;
  cwd?: string;
}

export function loadConfig(src: ConfigSources = {}): DsoConfig {
  const cwd = src.cwd ?? process.cwd();
  const file = src.file ?? ['dso.config.json', 'dso.config.toml'].map((f) => path.join(cwd, f)).find((f) => existsSync(f));
  const origin = new Map<string, string>();
  let raw: Record<string, unknown> = {};
  if (file !== undefined) raw = readFile(file);
  const layer = (values: [string, string][], what: (k: string) => string) => {
    const over: Record<string, unknown> = {};
    for (const [k, v] of values) {
      const spec = FLAT[k];
      setPath(over, spec.field, convert(v, spec.kind, what(k)));
      origin.set(spec.field.join('.'), what(k));
    }
    raw = merge(raw, over);
  };
  const env = src.env ?? process.env;
  layer(
    Object.keys(FLAT)
      .map((k) => [k, env[envName(k)]] as [string, string | undefined])
      .filter((e): e is [string, string] => e[1] !== undefined),
    (k) => `environment ${envName(k)}`,
  );
  const flags = Object.entries(src.flags ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
  for (const [k] of flags) if (!(k in FLAT)) throw new DsoError('INVALID_CONFIG', `unknown flag --${k}`);
  layer(flags, (k) => `flag --${k}`);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field =
      issue.path.join('.') || (issue.code === 'unrecognized_keys' ? ((issue as { keys?: string[] }).keys?.join(', ') ?? '') : '');
    const missing = issue.code === 'invalid_type' && getPath(raw, issue.path) === undefined;
    if (missing) {
      // A field required once its section is set (model.name beside model.baseUrl): say how to give it.
      const flag = Object.entries(FLAT).find(([, spec]) => spec.field.join('.') === field)?.[0];
      const how = flag ? `--${flag}, ${envName(flag)} or ${field} in the config file` : `${field} in the config file`;
      throw Object.assign(new DsoError('INVALID_CONFIG', `${field} is required here (${how})`), { field });
    }
    const from = origin.get(issue.path.join('.')) ?? (file ? `config file ${file}` : 'defaults');
    throw Object.assign(new DsoError('INVALID_CONFIG', `${field}: ${issue.message} (from ${from})`), { field });
  }
  return parsed.data;
}
