// Back from tokens to readable text, undoing what the rules can be undone: capitals (xxmaj, xxup),
// repetitions (xxrep, xxwrep), the ▁ that stands for a space inside a token. Padding and document markers
// are dropped. Lowercasing of other words and the spaces the tokenizer added around punctuation are not
// restored: this is for reading generated text, not for round trips.
import { BOS, EOS, FAKE, MAJ, PAD, REP, UP, WREP } from './special-tokens.js';

const DROPPED = new Set([BOS, EOS, PAD, FAKE]);

export function detokenize(tokens: readonly string[]): string {
  const words: string[] = [];
  let casing: 'maj' | 'up' | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (DROPPED.has(t)) continue;
    if (t === MAJ || t === UP) {
      casing = t === MAJ ? 'maj' : 'up';
      continue;
    }
    const count = Number(tokens[i + 1]);
    if ((t === REP || t === WREP) && Number.isInteger(count) && count > 0 && i + 2 < tokens.length) {
      const unit = tokens[i + 2]!.replace(/▁/g, ' ');
      words.push(t === REP ? unit.repeat(count) : Array.from({ length: count }, () => unit).join(' '));
      i += 2;
      continue;
    }
    let word = t.replace(/▁/g, ' ');
    if (casing === 'maj') word = word.charAt(0).toUpperCase() + word.slice(1);
    else if (casing === 'up') word = word.toUpperCase();
    casing = null;
    words.push(word);
  }
  return words.join(' ');
}
