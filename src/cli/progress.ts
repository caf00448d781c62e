// Progress of long work: a bar on a terminal (stage, epoch, step/total, loss, tokens/s, ETA) and a line per
// epoch; with --json, machine-readable JSON lines on stdout instead ({"event": "step" | "epoch" | ...}).
import cliProgress from 'cli-progress';

import type { EpochEvent, StepEvent } from '../train/learner.js';

type Direction = 'forward' | 'backward';

function metricsLine(valid: Record<string, unknown> | null): string {
  if (!valid) return '';
  const parts = [`valid loss ${(valid.loss as number).toFixed(4)}`];
  if (typeof valid.perplexity === 'number') parts.push(`perplexity ${valid.perplexity.toFixed(2)}`);
  if (typeof valid.errorRate === 'number') parts.push(`error ${(valid.errorRate * 100).toFixed(2)}%`);
  if (typeof valid.accuracy === 'number') parts.push(`accuracy ${(valid.accuracy * 100).toFixed(2)}%`);
  return parts.join(', ');
}

export class Progress {
  readonly #json: boolean;
  readonly #tty: boolean;
  #bar: cliProgress.SingleBar | null = null;
  #barKey = '';
  #tokens = 0;
  #seconds = 0;

  constructor(json: boolean) {
    this.#json = json;
    this.#tty = !json && Boolean(process.stderr.isTTY);
  }

  /** A message for the person (stderr), or a {"event": "message"} line with --json. */
  say(text: string): void {
    if (this.#json) this.emit({ event: 'message', text });
    else {
      this.#bar?.stop();
      this.#bar = null;
      process.stderr.write(`${text}\n`);
    }
  }

  emit(object: Record<string, unknown>): void {
    process.stdout.write(`${JSON.stringify(object)}\n`);
  }

  /** Hooks for a stage function, named `stage` in the output. */
  hooks(stage: string) {
    return {
      onStep: (e: StepEvent & { direction: Direction }) => this.#step(stage, e),
      onEpoch: (e: EpochEvent<unknown> & { direction: Direction }) => this.#epoch(stage, e),
    };
  }

  #step(stage: string, e: StepEvent & { direction: Direction }): void {
    this.#tokens += e.tokens;
    this.#seconds += e.seconds;
    const tokensPerSecond = this.#seconds > 0 ? this.#tokens / this.#seconds : 0;
    if (this.#json) {
      this.emit({
        event: 'step',
        stage,
        direction: e.direction,
        plan: e.stage,
        epoch: e.epoch,
        step: e.step + 1,
        total: e.stageSteps,
        loss: e.loss,
        skipped: e.skipped,
        lrs: e.applied.map((g) => g.lr),
        tokensPerSecond,
      });
      return;
    }
    if (!this.#tty) {
      // Logs (not a terminal): a line at every tenth of a stage.
      const tenth = Math.max(1, Math.round(e.stageSteps / 10));
      if ((e.step + 1) % tenth === 0 || e.step + 1 === e.stageSteps) {
        process.stderr.write(
          `${stage}${e.direction === 'backward' ? ' (backward)' : ''} [${e.stage + 1}]: step ${e.step + 1}/${e.stageSteps}, epoch ${e.epoch}, loss ${e.loss.toFixed(4)}, ${Math.round(tokensPerSecond)} tok/s\n`,
        );
      }
      return;
    }
    const key = `${stage}:${e.direction}:${e.stage}`;
    if (key !== this.#barKey || !this.#bar) {
      this.#bar?.stop();
      this.#barKey = key;
      this.#bar = new cliProgress.SingleBar(
        {
          format: '{stage} | {bar} | {value}/{total} steps | epoch {epoch} | loss {loss} | {tps} tok/s | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(e.stageSteps, e.step, {
        stage: `${stage}${e.direction === 'backward' ? ' (backward)' : ''} [${e.stage + 1}]`,
        epoch: e.epoch,
        loss: '-',
        tps: '-',
      });
    }
    this.#bar.update(e.step + 1, { epoch: e.epoch, loss: e.loss.toFixed(4), tps: Math.round(tokensPerSecond) });
  }

  #epoch(stage: string, e: EpochEvent<unknown> & { direction: Direction }): void {
    const valid = (e.valid as Record<string, unknown> | null) ?? null;
    if (this.#json) {
      this.emit({
        event: 'epoch',
        stage,
        direction: e.direction,
        plan: e.stage,
        epoch: e.epoch,
        trainLoss: e.trainLoss,
        skippedSteps: e.skippedSteps,
        valid,
      });
      return;
    }
    const line = `${stage}${e.direction === 'backward' ? ' (backward)' : ''}: epoch ${e.epoch} (plan stage ${e.stage + 1}) train loss ${e.trainLoss.toFixed(4)}; ${metricsLine(valid)}`;
    if (this.#bar) this.#bar.stop();
    this.#bar = null;
    process.stderr.write(`${line}\n`);
  }

  stop(): void {
    this.#bar?.stop();
    this.#bar = null;
  }
}
