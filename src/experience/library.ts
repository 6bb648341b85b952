/**
 * ExperienceLibrary: the experiences one node has learned, searchable by
 * meaning and persisted in SQLite.
 *
 * Memory mirrors the database: a batch of operations is checked, embedded and
 * planned without changing anything, written in one transaction, and only
 * then applied to memory and to the 1-bit index, so a failure at any step
 * leaves the library as it was. Batches run one at a time; retrievals run
 * beside them and see the library before or after a batch, never between.
 *
 * Several processes may open the same file and namespace. Before each batch
 * and each retrieval a library reads what the others committed (one query
 * when nothing was), so near-duplicates fold into their experiences and
 * retrieval finds them; a batch whose base another process changed while it
 * was being planned is planned again on the new state, never written over
 * it. get, has, size and list answer from memory as of the last of those.
 *
 * Retrieval is a 1-bit Hamming search over the packed embeddings (the
 * engine's kernels, through BinaryIndex) followed by exact cosine rescoring
 * of the candidates against the stored float embeddings.
 */
import { BinaryIndex } from '../binary-index/binary-index.js';
import { MAX_DOMAIN_BYTES } from '../bitdelta/record.js';
import { bytesPerRow, floats, wholeNumber } from '../core/checks.js';
import { DsoError } from '../core/errors.js';
import { createEngine } from '../engine/create-engine.js';
import type { BackendChoice, Engine } from '../engine/types.js';
import { addonAvailable } from '../simd/addon.js';
import { batchTexts, type Neighbour, type OperationOutcome, planBatch } from './batch-plan.js';
import type { Embedder } from './embedders/embedder.js';
import { HashingEmbedder } from './embedders/hashing.js';
import { chooseEvictions, EVICTION_POLICIES, type EvictionPolicy } from './eviction.js';
import type { Experience, RetrievedExperience } from './experience.js';
import { checkConfidence, checkOperations, type LibraryOperation } from './operations.js';
import { formatExperiences, type FormattedExperiences, injectExperiences } from './prompt.js';
import { type Changes, ExperienceStore, type Synchronous } from './store.js';
import { isDomain } from './text.js';
import { dot } from './vectors.js';

export interface ExperienceLibraryOptions {
  /** SQLite file (created if missing); default ':memory:', a library that ends with the process. */
  path?: string;
  /** Many libraries can share one file, each under its own namespace (default 'default'). */
  namespace?: string;
  /** Default: HashingEmbedder (384 dims). */
  embedder?: Embedder;
  /** Default: a native engine (js where the addon is not built) that runs calls of up to 32 MB inline. */
  engine?: Engine;
  /** The backend of the engine the library creates when none is given (default: native, else js). */
  backend?: BackendChoice;
  /** Most experiences kept (default 200); batches that go over evict by `eviction`. */
  capacity?: number;
  eviction?: EvictionPolicy;
  /** New text whose cosine to a live experience is above this folds into it (default 0.9; 1 turns folding off). */
  duplicateThreshold?: number;
  /** Node id recorded as the source of experiences this library creates (default 'local'). */
  source?: string;
  defaultDomain?: string;
  defaultConfidence?: number;
  /** 'normal' (default) survives a killed process; 'full' also survives power loss, at an fsync per batch. */
  synchronous?: Synchronous;
}

export interface ApplyResult {
  outcomes: OperationOutcome[];
  /** Ids created by the batch and still present after eviction. */
  added: string[];
  /** Ids the operations removed (deleted, modified or merged away). */
  removed: string[];
  evicted: string[];
  size: number;
}

export interface RetrieveOptions {
  /** Default 10. */
  k?: number;
  /** Drop results whose cosine similarity is below this. */
  minSimilarity?: number;
  /** Only experiences of this domain, among the nearest 32 x k. */
  domain?: string;
  /** Count the results as used (default true). */
  countUsage?: boolean;
}

/** Hamming candidates rescored per result wanted: enough that the 1-bit pass almost never drops a cosine top-k result. */
const CANDIDATES_PER_RESULT = 4;
const MIN_CANDIDATES = 32;
/** Neighbours examined when checking new text for near-duplicates. */
const DUPLICATE_CANDIDATES = 4;
/** A domain-filtered retrieval ranks this many times k before filtering. */
const DOMAIN_WIDENING = 32;
const USAGE_FLUSH_MS = 200;
const LIBRARY_INLINE_BYTES = 32 << 20;
/** Log rows (flushes) after which counts are folded into their rows even without a batch. */
const USAGE_LOG_ROWS = 1500;
/** Plans of one batch that other processes' commits may overturn before it fails. */
const MAX_PLANS = 20;

interface Entry {
  seq: number;
  experience: Experience;
}

export class ExperienceLibrary {
  readonly embedder: Embedder;
  readonly namespace: string;
  readonly capacity: number;
  readonly eviction: EvictionPolicy;
  readonly duplicateThreshold: number;
  private readonly store: ExperienceStore;
  private readonly engine: Engine;
  private readonly ownsEngine: boolean;
  private readonly index: BinaryIndex;
  private readonly entries = new Map<string, Entry>();
  private readonly bySeq = new Map<number, string>();
  private readonly source: string;
  private readonly defaultDomain: string;
  private readonly defaultConfidence: number;
  /** The database version memory reflects. */
  private version = 0;
  private epochValue = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Uses counted since the last flush, and the epoch of the latest, per id. */
  private readonly dirtyUsage = new Map<string, { uses: number; last: number }>();
  private usageTimer?: NodeJS.Timeout;
  private usageLogRows = 0;
  /** A batch is between reading the library and writing its plan: memory must hold still. */
  private planning = false;
  private closed = false;

  /** The cosine floor retrieval applies unless told otherwise: the embedder's (see Embedder.minSimilarity), else none. */
  get defaultMinSimilarity(): number {
    return this.embedder.minSimilarity ?? -1;
  }

  private constructor(opts: ExperienceLibraryOptions, embedder: Embedder, engine: Engine, ownsEngine: boolean, store: ExperienceStore) {
    this.embedder = embedder;
    this.engine = engine;
    this.ownsEngine = ownsEngine;
    this.store = store;
    this.namespace = opts.namespace ?? 'default';
    this.capacity = opts.capacity ?? 200;
    this.eviction = opts.eviction ?? 'hybrid';
    this.duplicateThreshold = opts.duplicateThreshold ?? 0.9;
    this.source = opts.source ?? 'local';
    this.defaultDomain = opts.defaultDomain ?? 'general';
    this.defaultConfidence = opts.defaultConfidence ?? 0.5;
    this.index = new BinaryIndex({ dim: embedder.dim, engine });
  }

  static async open(opts: ExperienceLibraryOptions = {}): Promise<ExperienceLibrary> {
    if (opts === null || typeof opts !== 'object') throw new DsoError('INVALID_ARGUMENT', 'ExperienceLibrary.open takes an options object');
    if (opts.capacity !== undefined) wholeNumber(opts.capacity, 'capacity', 'INVALID_COUNT', 1);
    if (opts.eviction !== undefined && !EVICTION_POLICIES.includes(opts.eviction)) {
      throw new DsoError('INVALID_ARGUMENT', `eviction must be one of ${EVICTION_POLICIES.join(', ')}, got ${String(opts.eviction)}`);
    }
    if (opts.duplicateThreshold !== undefined) {
      const t = opts.duplicateThreshold;
      if (typeof t !== 'number' || !(t >= -1 && t <= 1))
        throw new DsoError('INVALID_ARGUMENT', `duplicateThreshold must be in [-1, 1], got ${String(t)}`);
    }
    if (opts.defaultConfidence !== undefined) checkConfidence(opts.defaultConfidence, 'defaultConfidence');
    if (opts.defaultDomain !== undefined && !isDomain(opts.defaultDomain))
      throw new DsoError('INVALID_ARGUMENT', `defaultDomain must be a non-empty, well-formed string of at most ${MAX_DOMAIN_BYTES} bytes`);
    const ns = opts.namespace ?? 'default';
    if (typeof ns !== 'string' || ns === '') throw new DsoError('INVALID_ARGUMENT', 'namespace must be a non-empty string');
    const embedder = opts.embedder ?? new HashingEmbedder();
    const store = ExperienceStore.open(opts.path ?? ':memory:', ns, { dim: embedder.dim, embedder: embedder.id }, opts.synchronous);
    if (opts.engine !== undefined && opts.backend !== undefined) {
      store.close();
      throw new DsoError('INVALID_ARGUMENT', 'backend chooses the engine the library creates; pass engine or backend, not both');
    }
    let engine = opts.engine;
    try {
      // Retrieval scans a few MB per query: inline, a hop to the thread pool costs more than it saves.
      // Libraries are searched one query at a time: shards across workers would cost more than they save.
      engine ??= await createEngine({
        backend: opts.backend ?? (addonAvailable() ? 'native' : 'js'),
        inlineBytes: LIBRARY_INLINE_BYTES,
        threads: 1,
      });
      const lib = new ExperienceLibrary(opts, embedder, engine, opts.engine === undefined, store);
      lib.load();
      return lib;
    } catch (e) {
      store.close();
      if (opts.engine === undefined) await engine?.close();
      throw e;
    }
  }

  private load(): void {
    // Uses logged by processes that ended before folding them.
    this.store.foldUsage();
    const { version, epoch, rows } = this.store.loadAll();
    this.version = version;
    this.epochValue = epoch;
    if (rows.length === 0) return;
    const bpr = bytesPerRow(this.embedder.dim);
    const codes = new Uint8Array(rows.length * bpr);
    const labels = new BigInt64Array(rows.length);
    rows.forEach((r, i) => {
      codes.set(r.experience.code, i * bpr);
      labels[i] = BigInt(r.seq);
      this.entries.set(r.experience.id, r);
      this.bySeq.set(r.seq, r.experience.id);
    });
    this.index.add(codes, labels);
  }

  /** Brings memory and the index up to what other connections committed since this one last looked. */
  private refresh(): void {
    const c = this.store.changesSince(this.version);
    if (c !== undefined) this.applyChanges(c);
  }

  private applyChanges(c: Changes): void {
    // Deletions first: a modify elsewhere that kept its id deletes the old row and adds a new one.
    const live = new Set(c.live);
    const gone: bigint[] = [];
    for (const [seq, id] of this.bySeq) {
      if (live.has(seq)) continue;
      gone.push(BigInt(seq));
      this.bySeq.delete(seq);
      if (this.entries.get(id)?.seq === seq) this.entries.delete(id);
    }
    if (gone.length > 0) this.index.remove(BigInt64Array.from(gone));
    const fresh: Entry[] = [];
    for (const r of c.rows) {
      const known = this.bySeq.has(r.seq) ? this.entries.get(r.experience.id)?.experience : undefined;
      // Counts in memory may run ahead of the database by this process's unfolded uses.
      const experience =
        known === undefined
          ? r.experience
          : {
              ...r.experience,
              usageCount: Math.max(r.experience.usageCount, known.usageCount),
              lastUsedEpoch: Math.max(r.experience.lastUsedEpoch, known.lastUsedEpoch),
            };
      if (known === undefined) fresh.push(r);
      this.entries.set(experience.id, { seq: r.seq, experience });
      this.bySeq.set(r.seq, experience.id);
    }
    this.addToIndex(fresh);
    this.version = c.version;
    this.epochValue = c.epoch;
  }

  private addToIndex(rows: readonly Entry[]): void {
    if (rows.length === 0) return;
    const bpr = bytesPerRow(this.embedder.dim);
    const codes = new Uint8Array(rows.length * bpr);
    rows.forEach((p, i) => codes.set(p.experience.code, i * bpr));
    this.index.add(
      codes,
      BigInt64Array.from(rows, (p) => BigInt(p.seq)),
    );
  }

  get size(): number {
    return this.entries.size;
  }

  get epoch(): number {
    return this.epochValue;
  }

  get(id: string): Experience | undefined {
    return this.entries.get(id)?.experience;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Every experience, oldest first (other processes' commits included). */
  list(): Experience[] {
    if (!this.planning && !this.closed) this.refresh();
    return [...this.entries.values()].sort((a, b) => a.seq - b.seq).map((e) => e.experience);
  }

  /** Sets the epoch new experiences are stamped with and usage is counted in; persisted. */
  async setEpoch(epoch: number): Promise<void> {
    wholeNumber(epoch, 'epoch', 'INVALID_COUNT', 0);
    await this.serial(async () => {
      const w = this.store.writeBatch({ remove: [], put: [], epoch });
      if (w?.previous === this.version) this.version = w.version;
      this.epochValue = epoch;
    });
  }

  /** Adds experiences (a batch of `add` operations). */
  async add(
    items: Omit<Extract<LibraryOperation, { op: 'add' }>, 'op'>[] | Omit<Extract<LibraryOperation, { op: 'add' }>, 'op'>,
  ): Promise<ApplyResult> {
    const list = Array.isArray(items) ? items : [items];
    return this.applyOperations(list.map((i) => ({ ...i, op: 'add' as const })));
  }

  /**
   * Applies a batch atomically: every operation or none. Ids refer to the
   * library as it was when the batch started.
   */
  async applyOperations(ops: readonly LibraryOperation[]): Promise<ApplyResult> {
    return this.serial(() => this.applyNow(ops));
  }

  private async applyNow(opsIn: readonly LibraryOperation[]): Promise<ApplyResult> {
    this.flushUsage();
    if (this.usageLogRows > 0) this.foldUsage();
    this.refresh();
    let ops = checkOperations(opsIn, (id) => this.entries.has(id));
    this.planning = true;
    try {
      const dim = this.embedder.dim;
      const texts = batchTexts(ops);
      const embeddings = texts.length > 0 ? await this.embedder.embed(texts) : new Float32Array(0);
      const q =
        texts.length > 0 ? await this.engine.quantize(embeddings, { dim }) : { codes: new Uint8Array(0), scales: new Float32Array(0) };
      for (let plans = 1; ; plans++) {
        const done = await this.planAndWrite(ops, embeddings, q.codes, q.scales);
        if (done !== undefined) return done;
        // Another process committed while this batch was planned: plan again on what it wrote.
        if (plans === MAX_PLANS)
          throw new DsoError(
            'DATABASE_ERROR',
            `batch not written: other processes changed the library under it ${MAX_PLANS} times in a row`,
          );
        this.refresh();
        ops = checkOperations(opsIn, (id) => this.entries.has(id));
      }
    } finally {
      this.planning = false;
    }
  }

  /** Plans the batch on memory as it is and writes it, unless the database moved past memory meanwhile (undefined). */
  private async planAndWrite(
    ops: readonly LibraryOperation[],
    embeddings: Float32Array,
    codes: Uint8Array,
    scales: Float32Array,
  ): Promise<ApplyResult | undefined> {
    const base = this.version;
    const neighbours = await this.neighbourLists(embeddings, codes, scales.length);
    const plan = planBatch(ops, {
      current: (id) => this.entries.get(id)?.experience,
      embeddings,
      codes,
      scales,
      dim: this.embedder.dim,
      neighbours,
      duplicateThreshold: this.duplicateThreshold,
      source: this.source,
      epoch: this.epochValue,
      now: Date.now(),
      defaultConfidence: this.defaultConfidence,
      defaultDomain: this.defaultDomain,
    });

    // A modify that keeps its id is both removed (old row) and created (new row).
    const after = this.entries.size - plan.removed.size + plan.created.size;
    let evicted: string[] = [];
    if (after > this.capacity) {
      const all: Experience[] = [];
      for (const [id, e] of this.entries) if (!plan.removed.has(id)) all.push(plan.put.get(id) ?? e.experience);
      for (const id of plan.created) all.push(plan.put.get(id) as Experience);
      evicted = await chooseEvictions(all, after - this.capacity, this.eviction, this.engine, plan.created);
      for (const id of evicted) {
        plan.put.delete(id);
        if (plan.created.has(id)) plan.created.delete(id);
        else plan.removed.add(id);
      }
    }

    // Existing experiences keep their row; new ones (including a modify that kept its id) are numbered by the database.
    const puts = [...plan.put.values()].map((e) => ({
      seq: plan.created.has(e.id) ? -1 : (this.entries.get(e.id) as Entry).seq,
      experience: e,
    }));
    const written = this.store.writeBatch({
      base,
      remove: [...plan.removed].map((id) => (this.entries.get(id) as Entry).seq),
      put: puts,
    });
    if (written === undefined) return undefined;

    // Committed: now memory and the index follow.
    const fresh = puts.filter((p) => p.seq < 0);
    fresh.forEach((p, i) => (p.seq = written.seqs[i]));
    this.version = written.version;
    const gone = [...plan.removed].map((id) => this.entries.get(id) as Entry);
    this.index.remove(BigInt64Array.from(gone, (e) => BigInt(e.seq)));
    for (const e of gone) {
      this.entries.delete(e.experience.id);
      this.bySeq.delete(e.seq);
    }
    this.addToIndex(fresh);
    for (const p of puts) {
      this.entries.set(p.experience.id, p);
      this.bySeq.set(p.seq, p.experience.id);
    }
    const evictedSet = new Set(evicted);
    return {
      outcomes: plan.outcomes,
      added: fresh.map((p) => p.experience.id),
      removed: [...plan.removed].filter((id) => !evictedSet.has(id)),
      evicted,
      size: this.entries.size,
    };
  }

  /** For each text row, the near neighbours among live experiences and earlier rows, best first. */
  private async neighbourLists(embeddings: Float32Array, codes: Uint8Array, m: number): Promise<(row: number) => Neighbour[]> {
    if (m === 0 || this.duplicateThreshold >= 1) return () => [];
    const dim = this.embedder.dim;
    const lists: Neighbour[][] = Array.from({ length: m }, () => []);
    if (this.index.size > 0) {
      const k = Math.min(this.index.size, DUPLICATE_CANDIDATES);
      const r = await this.index.search(codes, { k });
      for (let i = 0; i < m; i++) {
        const v = embeddings.subarray(i * dim, (i + 1) * dim);
        for (let j = 0; j < k; j++) {
          const e = this.byLabel(r.labels[i * k + j]);
          if (e !== undefined) lists[i].push({ id: e.id, sim: dot(v, e.embedding) });
        }
      }
    }
    if (m > 1) {
      const k = Math.min(m, DUPLICATE_CANDIDATES + 1);
      const { ids } = await this.engine.hammingTopK(codes, codes, { dim, k });
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < k; j++) {
          const row = ids[i * k + j];
          if (row < 0 || row >= i) continue;
          lists[i].push({ row, sim: dot(embeddings.subarray(i * dim, (i + 1) * dim), embeddings.subarray(row * dim, (row + 1) * dim)) });
        }
      }
    }
    for (const l of lists) l.sort((a, b) => b.sim - a.sim);
    return (row) => lists[row];
  }

  /** The k experiences nearest the query (text or an embedding of the library's dim), most similar first. */
  async retrieve(query: string | Float32Array, opts: RetrieveOptions = {}): Promise<RetrievedExperience[]> {
    this.checkOpen();
    if (!this.planning) this.refresh();
    const k = wholeNumber(opts.k ?? 10, 'k', 'INVALID_K', 1);
    const dim = this.embedder.dim;
    let vq: Float32Array;
    if (typeof query === 'string') vq = await this.embedder.embed([query]);
    else {
      vq = floats(query, 'query');
      if (vq.length !== dim) throw new DsoError('DIM_MISMATCH', `query embedding must hold ${dim} values, got ${vq.length}`);
    }
    if (this.index.size === 0 || !vq.some((v) => v !== 0)) return [];
    const { codes } = await this.engine.quantize(vq, { dim });
    const filtered = opts.domain !== undefined;
    const want = Math.min(this.index.size, filtered ? k * DOMAIN_WIDENING : k);
    const candidates = Math.min(this.index.size, Math.max(want * CANDIDATES_PER_RESULT, MIN_CANDIDATES));
    // The 1-bit pass picks candidates; exact cosine against the stored embeddings ranks them.
    const r = await this.index.search(codes, { k: candidates });
    const scored: RetrievedExperience[] = [];
    for (const label of r.labels) {
      const e = this.byLabel(label);
      if (e === undefined || (filtered && e.domain !== opts.domain)) continue;
      const similarity = dot(vq, e.embedding);
      if (opts.minSimilarity === undefined || similarity >= opts.minSimilarity) scored.push({ experience: e, similarity });
    }
    scored.sort((a, b) => b.similarity - a.similarity || (a.experience.id < b.experience.id ? -1 : 1));
    const out = scored.slice(0, k);
    if (opts.countUsage !== false && out.length > 0) this.countUsage(out);
    return out;
  }

  private byLabel(label: bigint): Experience | undefined {
    if (label < 0n) return undefined;
    const id = this.bySeq.get(Number(label));
    return id === undefined ? undefined : this.entries.get(id)?.experience;
  }

  /**
   * Usage counts change on every retrieval; writing each one would put a
   * SQLite commit (and now and then a WAL checkpoint) inside retrieval
   * latency. They are collected for USAGE_FLUSH_MS (or until the next batch
   * or close) and appended as one packed log row; the log is folded into the
   * experience rows before batches, at open and at close. A killed process
   * loses at most the last USAGE_FLUSH_MS of counts, never a batch.
   */
  private countUsage(found: RetrievedExperience[]): void {
    for (const f of found) {
      // In place: a new object per count would churn the heap on every retrieval.
      const e = f.experience as { -readonly [K in 'usageCount' | 'lastUsedEpoch']: number };
      e.usageCount++;
      e.lastUsedEpoch = this.epochValue;
      const d = this.dirtyUsage.get(f.experience.id);
      if (d === undefined) this.dirtyUsage.set(f.experience.id, { uses: 1, last: this.epochValue });
      else {
        d.uses++;
        d.last = this.epochValue;
      }
    }
    this.usageTimer ??= setTimeout(() => this.flushUsage(), USAGE_FLUSH_MS).unref();
  }

  private flushUsage(): void {
    if (this.usageTimer !== undefined) clearTimeout(this.usageTimer);
    this.usageTimer = undefined;
    if (this.dirtyUsage.size === 0 || this.closed) return;
    const triples = new Int32Array(this.dirtyUsage.size * 3);
    let o = 0;
    for (const [id, d] of this.dirtyUsage) {
      const e = this.entries.get(id);
      if (e === undefined) continue;
      triples[o++] = e.seq;
      triples[o++] = d.uses;
      triples[o++] = d.last;
    }
    this.dirtyUsage.clear();
    this.store.appendUsage(triples.subarray(0, o));
    // Bounded log: fold now and then even if no batch comes to do it.
    if (++this.usageLogRows >= USAGE_LOG_ROWS) this.foldUsage();
  }

  /** Adds logged uses into the experience rows (before batches, at open and at close). */
  private foldUsage(): void {
    this.store.foldUsage();
    this.usageLogRows = 0;
  }

  /** The retrieved experiences as prompt lines (`[G1] (domain, conf:0.70) When ...`), or 'None'. */
  async formatForPrompt(query: string, opts: RetrieveOptions = {}): Promise<string> {
    return (await this.promptBlock(query, opts)).text;
  }

  /** formatForPrompt with the ids behind its labels. */
  async promptBlock(query: string, opts: RetrieveOptions = {}): Promise<FormattedExperiences> {
    return formatExperiences((await this.retrieve(query, opts)).map((r) => r.experience));
  }

  /** The problem wrapped in the experience-injection template, with the retrieved experiences. */
  async buildPrompt(problem: string, opts: RetrieveOptions = {}): Promise<FormattedExperiences & { prompt: string }> {
    const block = await this.promptBlock(problem, opts);
    return { ...block, prompt: injectExperiences(problem, block.text) };
  }

  /** Deletes this namespace's experiences from the database and closes the library. */
  async drop(): Promise<void> {
    await this.serial(async () => this.store.drop());
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue.catch(() => undefined);
    try {
      this.flushUsage();
      if (this.usageLogRows > 0) this.foldUsage();
    } finally {
      this.closed = true;
      this.store.close();
      await this.index.close();
      if (this.ownsEngine) await this.engine.close();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new DsoError('LIBRARY_CLOSED', 'the experience library is closed');
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    this.checkOpen();
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
