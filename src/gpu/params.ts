/**
 * A program's uniform parameters, declared once: the WGSL `struct Params`
 * and the bytes written into its uniform buffer both come from the one
 * declaration, so the two sides cannot drift apart. Fields are 4-byte
 * scalars laid out in declaration order; the struct is padded to a whole
 * 16 bytes, the granularity of the uniform address space.
 */
import { DsoError } from '../core/errors.js';

export type ParamType = 'u32' | 'i32' | 'f32';

/** Field name to WGSL type, in layout order (names are WGSL identifiers, so never integer-like keys that JS would reorder). */
export type ParamFields = Readonly<Record<string, ParamType>>;

/** One value per declared field, no more and no less. */
export type ParamValues<F extends ParamFields> = { readonly [K in keyof F]: number };

export interface ParamLayout<F extends ParamFields> {
  /** The `struct Params { ... }` declaration, padding fields included. */
  readonly wgsl: string;
  /** Bytes of the uniform buffer. */
  readonly bytes: number;
  /** The uniform buffer's contents for `values`, padding zeroed. */
  encode(values: ParamValues<F>): Uint8Array;
}

/** The values a layout encodes. */
export type ValuesOf<L> = L extends ParamLayout<infer F> ? ParamValues<F> : never;

/** The line of a .wgsl file that the struct replaces. */
export const PARAMS_MARKER = 'PARAMS:';

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;
const U32_MAX = 2 ** 32 - 1;
const I32_MIN = -(2 ** 31);

function checkValue(name: string, type: ParamType, v: number): void {
  const ok =
    type === 'f32' ? !Number.isNaN(v) : Number.isInteger(v) && (type === 'u32' ? v >= 0 && v <= U32_MAX : v >= I32_MIN && v < -I32_MIN);
  if (!ok) throw new DsoError('INVALID_ARGUMENT', `uniform field ${name} must be a ${type}, got ${v}`);
}

export function defineParams<const F extends ParamFields>(fields: F): ParamLayout<F> {
  const entries = Object.entries(fields);
  for (const [name] of entries) {
    if (!IDENTIFIER.test(name) || /^pad\d+$/.test(name)) {
      throw new DsoError('INVALID_ARGUMENT', `uniform field name ${name} is not a WGSL identifier of its own`);
    }
  }
  const slots = Math.max(4, Math.ceil(entries.length / 4) * 4);
  const pads = Array.from({ length: slots - entries.length }, (_, i) => `pad${i}`);
  const wgsl = ['struct Params {', ...entries.map(([name, type]) => `  ${name}: ${type},`), ...pads.map((p) => `  ${p}: u32,`), '}'].join(
    '\n',
  );
  return {
    wgsl,
    bytes: slots * 4,
    encode(values) {
      const buffer = new ArrayBuffer(slots * 4);
      const views = { u32: new Uint32Array(buffer), i32: new Int32Array(buffer), f32: new Float32Array(buffer) };
      entries.forEach(([name, type], i) => {
        const v = (values as Record<string, number>)[name];
        checkValue(name, type, v);
        views[type][i] = v;
      });
      return new Uint8Array(buffer);
    },
  };
}

/** `text` with the line holding PARAMS_MARKER replaced by the struct of `layout`. */
export function withParams(text: string, layout: ParamLayout<ParamFields>, label: string): string {
  const marker = new RegExp(`^.*${PARAMS_MARKER}.*$`, 'm');
  if (!marker.test(text)) throw new DsoError('INVALID_ARGUMENT', `program ${label} has no ${PARAMS_MARKER} line for its uniform struct`);
  return text.replace(marker, () => layout.wgsl);
}
