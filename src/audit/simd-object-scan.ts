import { type ObjectScan, scanObject } from './json-scan.ts';
import { SIMD_OBJECT_SCAN_WASM } from './simd-object-scan-wasm.ts';

/**
 * `scanObject` over one body, with WebAssembly SIMD (simd-object-scan.wat) where the runtime has it: the same results,
 * about 2.5 times faster on Metadata events, whose scan was a tenth of serve's CPU. The module's memory holds a window
 * of the body, copied in as the scan reaches it; an object the module cannot decide, or that does not fit in a window,
 * goes to `scanObject`, which also gives every error.
 */
export interface ObjectScanner {
  /** What `scanObject(bytes, offset)` returns, or throws what it throws; a function of its own, to pass on as it is. */
  readonly scan: (offset: number) => ObjectScan;
  /** How many objects the WebAssembly module scanned (the rest went to `scanObject`): for tests. */
  readonly simdScans: number;
}

/** Where the window starts in the module's memory (the result and a constant come first; see the .wat). */
const WINDOW_START = 128;
/** A block the module classifies at once: it may read this far past the window's end. */
const BLOCK_BYTES = 64;

/** What the module's scanObject returns; anything else means `scanObject` decides. */
const Status = { Done: 0, NeedsMore: 1 } as const;

interface Module {
  readonly scanObject: (start: number, limit: number) => number;
  readonly memory: Uint8Array;
  readonly result: Int32Array;
  readonly windowBytes: number;
}

/** undefined until first needed; null where WebAssembly SIMD is not available (`--jitless`, an old runtime). */
let module: Module | null | undefined;

/** The part of the WebAssembly API used here, which the project's TypeScript libraries (no DOM) do not declare. */
interface WebAssemblyApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: { readonly memory: { readonly buffer: ArrayBuffer }; readonly scanObject: Module['scanObject'] } };
}

function instantiate(): Module | null {
  try {
    const { WebAssembly } = globalThis as unknown as { WebAssembly: WebAssemblyApi };
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(SIMD_OBJECT_SCAN_WASM, 'base64')));
    const { buffer } = instance.exports.memory;
    return {
      scanObject: instance.exports.scanObject,
      memory: new Uint8Array(buffer),
      result: new Int32Array(buffer, 0, 5),
      windowBytes: buffer.byteLength - WINDOW_START - BLOCK_BYTES,
    };
  } catch {
    return null;
  }
}

/** Which scanner's window the memory holds: bodies decoded in turns (in slices) share the one module. */
let windowOwner = 0;
let scanners = 0;

/** A scanner for `bytes`; `windowBytes` (for tests) makes the window smaller than the module's memory allows. */
export function objectScanner(bytes: Buffer, windowBytes = Number.POSITIVE_INFINITY): ObjectScanner {
  module ??= instantiate();
  const simd = module;
  if (!simd) return { scan: (offset) => scanObject(bytes, offset), simdScans: 0 };
  const id = ++scanners;
  const window = Math.min(windowBytes, simd.windowBytes);
  let from = 0;
  let to = 0;
  let simdScans = 0;
  const load = (offset: number): void => {
    windowOwner = id;
    from = offset;
    to = Math.min(bytes.length, offset + window);
    simd.memory.set(bytes.subarray(from, to), WINDOW_START);
  };
  const run = (offset: number): number => simd.scanObject(WINDOW_START + offset - from, WINDOW_START + to - from);
  return {
    scan: (offset) => {
      if (windowOwner !== id || offset < from || offset >= to) load(offset);
      let status = run(offset);
      // An object that runs past the window: once more from its start, unless the window already started there.
      if (status === Status.NeedsMore && to < bytes.length && offset > from) {
        load(offset);
        status = run(offset);
      }
      if (status !== Status.Done) return scanObject(bytes, offset);
      simdScans++;
      const { result } = simd;
      const end = offset + result[0]!;
      const multiline = result[2] === 1;
      if (result[3]! < 0) return { end, keys: result[1]!, multiline };
      return { end, keys: result[1]!, multiline, annotations: { start: result[3]!, end: result[4]! } };
    },
    get simdScans() {
      return simdScans;
    },
  };
}
