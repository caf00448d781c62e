// fastai v2's special tokens, in id order (ids 0..8). fastai v1 (the WikiText-103 release) orders them
// differently: pretrained vocabularies are matched by token string, never by id.
export const UNK = 'xxunk';
export const PAD = 'xxpad';
export const BOS = 'xxbos';
export const EOS = 'xxeos';
export const FLD = 'xxfld';
export const REP = 'xxrep';
export const WREP = 'xxwrep';
export const UP = 'xxup';
export const MAJ = 'xxmaj';
/** Padding fastai v2 appends to a vocabulary to reach a multiple of 8. */
export const FAKE = 'xxfake';

export const SPECIAL_TOKENS: readonly string[] = Object.freeze([UNK, PAD, BOS, EOS, FLD, REP, WREP, UP, MAJ]);

export const UNK_ID = 0;
export const PAD_ID = 1;
export const BOS_ID = 2;
