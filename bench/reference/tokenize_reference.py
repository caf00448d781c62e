"""The tokenization benchmark's reference: fastai's English processing in one Python process (the pre-rules
and post-rule as test/golden/tokenizer_golden.py states them, spacy.blank('en') through nlp.pipe as fastai's
SpacyTokenizer runs it), then numericalization with a counter, on the SOTU corpus.
Prints one JSON line: { tokensPerSecond, tokens, seconds }."""
import collections
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'test' / 'golden'))
import tokenizer_golden as rules  # noqa: E402

data = ROOT / 'node_modules' / '@stdlib' / 'datasets-sotu' / 'data'
texts = [json.loads(p.read_text(encoding='utf-8'))['text'] for p in sorted(data.glob('*.json'))]

start = time.perf_counter()
processed = []
for text in texts:
    for rule in rules.PRE_RULES:
        text = rule(text)
    processed.append(text)
ids = {}
counts = collections.Counter()
tokens = 0
for doc in rules.nlp.pipe(processed, batch_size=5000):
    words = [t.text.replace(' ', '\u2581') for t in doc]
    counts.update(words)
    encoded = [ids.setdefault(w, len(ids)) for w in words]
    tokens += len(encoded)
seconds = time.perf_counter() - start
print(json.dumps({'tokensPerSecond': tokens / seconds, 'tokens': tokens, 'seconds': seconds,
                  'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
