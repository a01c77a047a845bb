import type { RecordBatch } from 'apache-arrow';
import { fromIPC } from '../sources/ipc.js';
import { fromParquet } from '../sources/parquet.js';
import type { BatchSource, OpenedSource } from '../sources/types.js';
import type { ObjectStore } from '../store/types.js';
import type { Piece } from './plan.js';

/** One piece as a source: its Parquet row groups, its IPC record batches, or its whole IPC file. */
export function pieceSource(store: ObjectStore, piece: Piece): BatchSource {
  const input = store.openRead(piece.key);
  const range = { start: piece.start, end: piece.end };
  if (piece.kind === 'parquet') return fromParquet(input, { rowGroups: range });
  return piece.kind === 'ipc' ? fromIPC(input, { batches: range }) : fromIPC(input);
}

/**
 * A shard's pieces read one after the other as one source (reopenable, as its pieces are: dta
 * and sav take a first pass over it). Schema and row count are known at open: the first
 * piece is opened then, the others when the one before ends, so one reader at a time is open.
 */
export function piecesSource(store: ObjectStore, pieces: readonly Piece[], name: string): BatchSource {
  if (pieces.length === 1) return { ...pieceSource(store, pieces[0]), name };
  return {
    reopenable: true,
    name,
    async open(): Promise<OpenedSource> {
      const numRows = pieces.reduce((n, p) => n + p.rows, 0);
      let current: OpenedSource = await pieceSource(store, pieces[0]).open();
      let closed = false;
      let doneBytes = 0;
      async function* batches(): AsyncGenerator<RecordBatch> {
        for (let i = 0; ; i++) {
          yield* current.batches;
          doneBytes += current.totalBytes ?? 0;
          await current.close();
          if (i + 1 >= pieces.length || closed) return;
          current = await pieceSource(store, pieces[i + 1]).open();
        }
      }
      return {
        schema: current.schema,
        numRows,
        totalBytes: null,
        bytesRead: () => doneBytes + current.bytesRead(),
        batches: batches(),
        async close() {
          closed = true;
          await current.close();
        },
      };
    },
  };
}
