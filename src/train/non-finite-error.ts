// The error a fit ends with when more steps than maxSkippedSteps had a non-finite loss or gradient. Those
// steps changed nothing (the engines skip them on the device), so the model holds the last finite step's
// weights, and a checkpoint, when asked for, was written before the error was thrown.
export class NonFiniteError extends Error {
  readonly code = 'ERR_ULMFIT_NON_FINITE';
  constructor(
    message: string,
    /** Steps skipped so far in the run (this fit and any it resumed). */
    readonly skippedSteps: number,
    /** Where the last skipped step was. */
    readonly at: { stage: number; epoch: number; step: number },
  ) {
    super(message);
    this.name = 'NonFiniteError';
  }
}
