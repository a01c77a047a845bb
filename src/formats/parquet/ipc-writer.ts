import { Type } from 'apache-arrow';
import type { RecordBatch } from 'apache-arrow';

// Canonical batches as an Arrow IPC stream (format/Columnar.rst "Serialization and Interprocess
// Communication"), written straight into a buffer the caller may reuse: the parallel path sends
// every row group to a worker this way. apache-arrow's tableToIPC allocated a fresh buffer per
// group, gathering it in pieces first; with the fresh pages and the collections that followed,
// that cost the main thread about as much as reading the source. The layouts are the eight
// canonical ones (src/table/columns.ts), none nested, so each column has a validity buffer and
// either a values buffer (fixed width, bit-packed booleans) or offsets and bytes (UTF-8).

const CONTINUATION = 0xffffffff;
/** Schema.fbs MetadataVersion.V5 */
const METADATA_V5 = 4;
/** Message.fbs MessageHeader.RecordBatch */
const HEADER_RECORD_BATCH = 3;

interface BufferSpec {
  /** Copies the buffer's bytes to `out` at `at`. */
  write(out: Uint8Array, at: number): void;
  length: number;
}

/** One record batch message, measured before it is written. */
interface BatchPlan {
  rows: number;
  nodes: { length: number; nullCount: number }[];
  buffers: BufferSpec[];
  metadataLength: number;
  bodyLength: number;
}

/**
 * Bytes of the stream of `batches` after the schema message `schemaMessage` (an encapsulated
 * message as apache-arrow wrote it). `reuse` is taken when large enough, else `allocate` makes
 * a buffer (an eighth larger, so the next group of about the same size fits); the result is a
 * view at its start.
 */
export function writeIPCStream(schemaMessage: Uint8Array, batches: readonly RecordBatch[], reuse: ArrayBufferLike | null,
  allocate: (bytes: number) => ArrayBufferLike = (bytes) => new ArrayBuffer(bytes)): Uint8Array {
  const plans = batches.map(planBatch);
  const size = schemaMessage.length + plans.reduce((n, p) => n + 8 + p.metadataLength + p.bodyLength, 0) + 8;
  const out = new Uint8Array(reuse && reuse.byteLength >= size ? reuse : allocate(Math.ceil(size * 1.125 / 8) * 8), 0, size);
  out.set(schemaMessage, 0);
  let at = schemaMessage.length;
  for (const plan of plans) at = writeBatch(out, at, plan);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(at, CONTINUATION, true);
  view.setUint32(at + 4, 0, true); // end of stream
  return out;
}

/** The first encapsulated message (the schema) of an IPC stream. */
export function schemaMessageOf(stream: Uint8Array): Uint8Array {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  if (view.getUint32(0, true) !== CONTINUATION) throw new Error('internal: an IPC stream without continuation markers');
  return stream.slice(0, 8 + view.getInt32(4, true));
}

function planBatch(batch: RecordBatch): BatchPlan {
  const nodes: BatchPlan['nodes'] = [];
  const buffers: BufferSpec[] = [];
  for (const data of batch.data.children) {
    const nullCount = data.nullCount > 0 ? data.nullCount : 0;
    nodes.push({ length: data.length, nullCount });
    buffers.push(nullCount > 0 && data.nullBitmap ? bitsBuffer(data.nullBitmap, data.offset, data.length) : EMPTY);
    if (data.type.typeId === Type.Utf8) {
      const offsets = data.valueOffsets as Int32Array;
      buffers.push(offsetsBuffer(offsets, data.length), bytesBuffer((data.values as Uint8Array).subarray(offsets[0], offsets[data.length])));
    } else if (data.type.typeId === Type.Bool) {
      buffers.push(bitsBuffer(data.values as Uint8Array, data.offset, data.length));
    } else {
      const values = data.values as ArrayLike<number> & ArrayBufferView & { BYTES_PER_ELEMENT: number };
      buffers.push(bytesBuffer(new Uint8Array(values.buffer, values.byteOffset, data.length * values.BYTES_PER_ELEMENT)));
    }
  }
  const bodyLength = buffers.reduce((n, b) => n + pad8(b.length), 0);
  return { rows: batch.numRows, nodes, buffers, bodyLength, metadataLength: metadataSize(nodes.length, buffers.length) };
}

const EMPTY: BufferSpec = { length: 0, write: () => undefined };

function bytesBuffer(bytes: Uint8Array): BufferSpec {
  return { length: bytes.length, write: (out, at) => out.set(bytes, at) };
}

/** UTF-8 offsets from 0, as IPC readers expect them (a sliced column's start at its first value). */
function offsetsBuffer(offsets: Int32Array, length: number): BufferSpec {
  return {
    length: 4 * (length + 1),
    write: (out, at) => {
      const base = offsets[0];
      const used = offsets.subarray(0, length + 1);
      // Buffers start 8-byte aligned in `out`, so an Int32Array fits (little-endian, as Arrow in JS assumes).
      const target = new Int32Array(out.buffer, out.byteOffset + at, length + 1);
      if (base === 0) target.set(used);
      else for (let i = 0; i <= length; i++) target[i] = used[i] - base;
    },
  };
}

/** `length` bits of `bits` from bit `offset`, realigned to bit 0. */
function bitsBuffer(bits: Uint8Array, offset: number, length: number): BufferSpec {
  const bytes = (length + 7) >> 3;
  return {
    length: bytes,
    write: (out, at) => {
      const shift = offset & 7;
      const start = offset >> 3;
      if (shift === 0) {
        out.set(bits.subarray(start, start + bytes), at);
      } else {
        for (let i = 0; i < bytes; i++) out[at + i] = ((bits[start + i] >> shift) | (bits[start + i + 1] << (8 - shift))) & 0xff;
      }
      // Bits past the last row are left as the source had them; readers ignore them.
    },
  };
}

function pad8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Size of the flatbuffer Message of a RecordBatch, laid out as writeMetadata does:
 * root offset, Message vtable and table, RecordBatch vtable and table, then the nodes and
 * buffers vectors (structs of two longs, 8-byte aligned).
 */
function metadataSize(nodeCount: number, bufferCount: number): number {
  const nodesAt = 84;
  const buffersAt = nodesAt + 4 + 16 * nodeCount;
  return pad8(buffersAt + 4 + 16 * bufferCount);
}

/** Writes one encapsulated record batch message at `at`; returns where the next begins. */
function writeBatch(out: Uint8Array, at: number, plan: BatchPlan): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(at, CONTINUATION, true);
  view.setInt32(at + 4, plan.metadataLength, true);
  const m = at + 8; // the flatbuffer starts here; offsets below are relative to it
  out.fill(0, m, m + plan.metadataLength);
  const u16 = (p: number, v: number): void => view.setUint16(m + p, v, true);
  const u32 = (p: number, v: number): void => view.setUint32(m + p, v, true);
  const i64 = (p: number, v: number): void => view.setBigInt64(m + p, BigInt(v), true);
  // Root: the Message table at 16.
  u32(0, 16);
  // Message vtable at 4: 4 fields (version, header_type, header, bodyLength); table of 24 bytes.
  u16(4, 12); u16(6, 24); u16(8, 16); u16(10, 18); u16(12, 4); u16(14, 8);
  // Message table at 16: vtable 12 bytes back; header offset at +4, bodyLength at +8, version at +16, header_type at +18.
  view.setInt32(m + 16, 16 - 4, true);
  u32(20, 56 - 20);
  i64(24, plan.bodyLength);
  u16(32, METADATA_V5);
  out[m + 34] = HEADER_RECORD_BATCH;
  // RecordBatch vtable at 40: 3 fields (length, nodes, buffers); table of 24 bytes.
  u16(40, 10); u16(42, 24); u16(44, 8); u16(46, 4); u16(48, 16);
  // RecordBatch table at 56: vtable 16 bytes back; nodes offset at +4, length at +8, buffers offset at +16.
  view.setInt32(m + 56, 56 - 40, true);
  const nodesAt = 84;
  const buffersAt = nodesAt + 4 + 16 * plan.nodes.length;
  u32(60, nodesAt - 60);
  i64(64, plan.rows);
  u32(72, buffersAt - 72);
  u32(nodesAt, plan.nodes.length);
  plan.nodes.forEach((node, i) => {
    i64(nodesAt + 4 + 16 * i, node.length);
    i64(nodesAt + 12 + 16 * i, node.nullCount);
  });
  u32(buffersAt, plan.buffers.length);
  let body = m + plan.metadataLength;
  let offset = 0;
  plan.buffers.forEach((buffer, i) => {
    i64(buffersAt + 4 + 16 * i, offset);
    i64(buffersAt + 12 + 16 * i, buffer.length);
    buffer.write(out, body + offset);
    const padded = pad8(buffer.length);
    out.fill(0, body + offset + buffer.length, body + offset + padded);
    offset += padded;
  });
  body += offset;
  return body;
}
