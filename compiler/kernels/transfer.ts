/**
 * The `transfer` kernel: moves a whole tensor from one core to one or more others (point to point,
 * or multicast along a route tree) on one colour. Code, per step:
 *
 *   sender:         send  src, n, colour     (guard: the sender)
 *   each receiver:  recv  dst, n, colour     (guard: that receiver)
 *   all of them:    wait
 *
 * Timing (compiler/kernels/timing.ts, from docs/runtime-model.md): with P = I + C and D the stream's
 * link cycles, the stream starts at P, the sender finishes at P + max(I, D), a receiver h hops away
 * at P + max(I, 2ρ + h·α + D); the step costs the largest of these.
 */
import type { InstrRef, OperandLike, RegionBuilder } from '../../ir/program-builder.js';
import type { Expr, MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { postOffset, receiverFinish, senderFinish, streamCycles } from './timing.js';

export interface TransferTiming {
  /** Cycles until every participant has finished (C_s of the step). */
  cycles: number;
  sender: number;
  /** Finish offset of each receiver, in the order given. */
  receivers: number[];
  /** Offset of the `wait` instruction's start on every participant. */
  waitAt: number;
}

/** Exact timing of a transfer of n elements of `type` to receivers at the given hop counts. */
export function transferTiming(target: Target, type: MemType, n: number, hops: readonly number[]): TransferTiming {
  const D = streamCycles(target, type, n);
  const sender = senderFinish(target, D);
  const receivers = hops.map((h) => receiverFinish(target, D, h));
  return { cycles: Math.max(sender, ...receivers), sender, receivers, waitAt: postOffset(target) };
}

export interface TransferSpec {
  n: number;
  colour: number;
  src: { at: OperandLike; guard: Expr | undefined };
  dests: { at: OperandLike; guard: Expr | undefined }[];
  /** Guard of the wait: every participant. */
  waitGuard: Expr | undefined;
}

export interface EmittedTransfer {
  send: InstrRef;
  recvs: InstrRef[];
  wait: InstrRef;
}

export function emitTransferKernel(r: RegionBuilder, spec: TransferSpec, loc: string): EmittedTransfer {
  const send = r.send(spec.src.at, spec.n, spec.colour, { guard: spec.src.guard, loc });
  const recvs = spec.dests.map((d) => r.recv(d.at, spec.n, spec.colour, { guard: d.guard, loc }));
  const wait = r.wait({ guard: spec.waitGuard, loc });
  return { send, recvs, wait };
}
