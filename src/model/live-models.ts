// Which models this process holds, so that the data pipeline's default thread count can leave LibTorch's
// cores alone while a model may be training. A model counts from its creation until dispose() or garbage
// collection, whichever comes first.
const live = new Set<symbol>();
const collected = new FinalizationRegistry<symbol>((token) => live.delete(token));

/** Registers a model; the returned function unregisters it (idempotent). */
export function registerModel(owner: object): () => void {
  const token = Symbol('model');
  live.add(token);
  collected.register(owner, token, owner);
  return () => {
    live.delete(token);
    collected.unregister(owner);
  };
}

export function liveModelCount(): number {
  return live.size;
}
