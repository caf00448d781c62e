// The one error every reader in src/interop throws: a checkpoint or pickle comes from anywhere, so whatever is
// wrong with it (a refused global, a length past the end, a shape its storage cannot hold) is reported as
// this, naming the file, never as a RangeError or TypeError from deep inside.
export class CheckpointError extends Error {
  readonly code = 'ERR_ULMFIT_CHECKPOINT';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}
