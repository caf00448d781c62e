// Files built to hurt: forbidden globals, opcodes outside the set, lengths and views past the data, huge
// claimed sizes, zip entries that escape, truncation. Each must end in a CheckpointError with a message
// that names the file and the problem: no other exception, no hang, no huge allocation, nothing run.
import { beforeAll, describe, expect, it } from 'vitest';
import { unzipSync, zipSync } from 'fflate';

import { CheckpointError, readItos, readTorchCheckpoint } from '../../src/index.js';
import { torchFixtures, type Fixtures } from './fixtures.js';
import { floats, legacyCheckpoint, PickleBuilder, stateDictPickle, zipCheckpoint } from './pickle-builder.js';

let fx: Fixtures | null = null;
beforeAll(() => {
  fx = torchFixtures();
});

/** The CheckpointError that reading `bytes` throws (failing the test on success or any other error). */
function refusal(bytes: Uint8Array, file = 'hostile.pth', skip: string[] = []): CheckpointError {
  try {
    readTorchCheckpoint(bytes, file, { skip });
  } catch (err) {
    if (err instanceof CheckpointError) return err;
    throw err;
  }
  return expect.fail('read without error');
}

const oneWeight = (p: PickleBuilder) => p.tensor('FloatStorage', '0', 4, 0, [2, 2], [2, 1]);

describe('hostile checkpoints', () => {
  it('the hand-made baseline reads (so each refusal below is about its one lie)', () => {
    const pickle = stateDictPickle([['w', oneWeight]]);
    const zip = readTorchCheckpoint(zipCheckpoint(pickle, { 0: floats(1, 2, 3, 4) }), 'ok.pth');
    expect([...zip.tensors.get('w')!.data]).toEqual([1, 2, 3, 4]);
    const legacy = readTorchCheckpoint(legacyCheckpoint(pickle, [{ key: '0', count: 4n, data: floats(1, 2, 3, 4) }]), 'ok.pth');
    expect([...legacy.tensors.get('w')!.data]).toEqual([1, 2, 3, 4]);
  });

  it('refuses os.system and builtins.eval by name, before anything could call them', () => {
    const system = new PickleBuilder().proto(2).global('os', 'system').str('echo pwned').tuple1().reduce().stop().bytes();
    expect(refusal(zipCheckpoint(system, {}), 'checkpoint.pth').message).toBe(
      'checkpoint.pth: archive/data.pkl byte 2: the pickle names os.system, which a checkpoint never needs; refusing to load',
    );
    const evalInDict = stateDictPickle([['w', (p) => p.global('builtins', 'eval').str('1').tuple1().reduce()]]);
    expect(refusal(legacyCheckpoint(evalInDict, [])).message).toMatch(
      /^hostile\.pth: legacy format byte \d+: the pickle names builtins\.eval, which a checkpoint never needs/,
    );
    // torch's own, but not on the list: refused too, and said so.
    const sparse = new PickleBuilder().proto(2).global('torch._utils', '_rebuild_sparse_tensor').stop().bytes();
    expect(refusal(zipCheckpoint(sparse, {})).message).toMatch(
      /names torch\._utils\._rebuild_sparse_tensor, which this reader does not support/,
    );
    // A name that is not an identifier is quoted, not echoed raw.
    const odd = new PickleBuilder().proto(2).global('os\u001b[31m', 'x').stop().bytes();
    expect(refusal(zipCheckpoint(odd, {})).message).toContain('"os\\u001b[31m.x"');
  });

  it('refuses opcodes outside the set torch uses', () => {
    const inst = new PickleBuilder().proto(2).mark().raw(0x69).stop().bytes(); // INST: calls a class by name
    expect(refusal(zipCheckpoint(inst, {})).message).toBe(
      'hostile.pth: archive/data.pkl byte 3: opcode 0x69 (INST) is not one a checkpoint uses',
    );
    const ext = new PickleBuilder().proto(2).raw(0x82, 1).stop().bytes();
    expect(refusal(zipCheckpoint(ext, {})).message).toMatch(/opcode 0x82 \(EXT1\)/);
    expect(() => readItos(new PickleBuilder().proto(2).raw(0xff).bytes(), 'x.pkl')).toThrow(
      /x\.pkl: pickle byte 2: opcode 0xff is not one/,
    );
  });

  it('refuses lengths past the end of the data without allocating them', () => {
    const huge = new PickleBuilder().proto(4).raw(0x8d, 0, 0x10, 0xa5, 0xd4, 0xe8, 0, 0, 0).stop().bytes(); // BINUNICODE8 of 10^12
    expect(refusal(zipCheckpoint(huge, {})).message).toMatch(
      /archive\/data\.pkl byte 11: a string needs 1000000000000 bytes, past the end of the data/,
    );
    const long = new PickleBuilder().proto(2).raw(0x58, 0xff, 0xff, 0xff, 0xff, 0x61).stop().bytes();
    expect(refusal(zipCheckpoint(long, {})).message).toMatch(/a string needs 4294967295 bytes, past the end/);
  });

  it('refuses storages that claim 10^12 elements, in either format', () => {
    const claim = stateDictPickle([['w', (p) => p.tensor('FloatStorage', '0', 1e12, 0, [2], [1])]]);
    expect(refusal(zipCheckpoint(claim, { 0: floats(1, 2) })).message).toBe(
      'hostile.pth: storage 0 has 8 bytes where 1000000000000 float32 elements need 4000000000000',
    );
    expect(refusal(legacyCheckpoint(claim, [{ key: '0', count: 10n ** 12n, data: floats(1, 2) }])).message).toMatch(
      /legacy format byte \d+: storage 0 needs 4000000000000 bytes, past the end of the data/,
    );
    const pickle = stateDictPickle([['w', oneWeight]]);
    expect(refusal(legacyCheckpoint(pickle, [{ key: '0', count: 10n ** 12n, data: floats(1, 2, 3, 4) }])).message).toMatch(
      /storage 0 holds 1000000000000 elements where the pickle says 4/,
    );
    // A broadcast view of one element as 10^12: the bytes are there, the output would not be.
    const broadcast = stateDictPickle([['w', (p) => p.tensor('FloatStorage', '0', 1, 0, [1_000_000, 1_000_000], [0, 0])]]);
    expect(refusal(zipCheckpoint(broadcast, { 0: floats(1) })).message).toMatch(
      /tensor w has 1000000000000 elements, far more than the checkpoint's storages hold/,
    );
    const overflow = stateDictPickle([['w', (p) => p.tensor('FloatStorage', '0', 4, 0, [2 ** 40, 2 ** 40], [2 ** 40, 1])]]);
    expect(refusal(zipCheckpoint(overflow, { 0: floats(1, 2, 3, 4) })).message).toMatch(
      /tensor w \(shape .*\) reaches byte \d+ of storage 0, which holds 16/,
    );
  });

  it('refuses views that reach past their storage', () => {
    const offset = stateDictPickle([['w', (p) => p.tensor('FloatStorage', '0', 4, 100, [2], [1])]]);
    expect(refusal(zipCheckpoint(offset, { 0: floats(1, 2, 3, 4) })).message).toBe(
      'hostile.pth: tensor w (shape [2], stride [1], offset 100) reaches byte 408 of storage 0, which holds 16',
    );
    const stride = stateDictPickle([['w', (p) => p.tensor('FloatStorage', '0', 4, 0, [2, 2], [3, 1])]]);
    expect(refusal(zipCheckpoint(stride, { 0: floats(1, 2, 3, 4) })).message).toMatch(/reaches byte 20 of storage 0, which holds 16/);
    const missing = stateDictPickle([['w', oneWeight]]);
    expect(refusal(zipCheckpoint(missing, {})).message).toBe('hostile.pth: storage 0 is used but its bytes are not in the file');
  });

  it('refuses zip entries that would escape a folder, and other zip lies', () => {
    const pickle = stateDictPickle([['w', oneWeight]]);
    const evil = zipCheckpoint(pickle, { 0: floats(1, 2, 3, 4) }, { '../evil': new Uint8Array([1]) });
    expect(refusal(evil).message).toBe('hostile.pth: the zip has an entry named "../evil", which no checkpoint has; refusing to load');
    const absolute = zipCheckpoint(pickle, { 0: floats(1, 2, 3, 4) }, { '/etc/cron.d/x': new Uint8Array([1]) });
    expect(refusal(absolute).message).toMatch(/entry named "\/etc\/cron\.d\/x"/);
    const nested = zipCheckpoint(pickle, { 0: floats(1, 2, 3, 4) }, { 'archive/data/../../x': new Uint8Array([1]) });
    expect(refusal(nested).message).toMatch(/entry named "archive\/data\/\.\.\/\.\.\/x"/);
    expect(refusal(zipSync({ 'a/b.txt': new Uint8Array(3) })).message).toBe(
      'hostile.pth: a zip without data.pkl is not a torch.save checkpoint',
    );
    expect(refusal(zipCheckpoint(pickle, { 0: floats(1, 2, 3, 4) }, {}, 'big')).message).toMatch(/written on a big-endian machine/);
  });

  it('refuses a zip whose sizes lie (claimed larger than stored)', () => {
    const bytes = zipCheckpoint(stateDictPickle([['w', oneWeight]]), { 0: floats(1, 2, 3, 4) });
    // Patch the central directory's uncompressed size of the first entry to 2^32-2.
    const view = new DataView(bytes.buffer);
    for (let i = bytes.length - 22; i >= 0; i--) {
      if (view.getUint32(i, true) === 0x02014b50) {
        let first = i;
        for (let j = i; j >= 0; j--) if (view.getUint32(j, true) === 0x02014b50) first = j;
        view.setUint32(first + 24, 0xfffffffe, true);
        break;
      }
    }
    expect(refusal(bytes).message).toMatch(/zip entry archive\/data\.pkl claims 4294967294 bytes from \d+/);
  });

  it('refuses a legacy file written big-endian', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const bytes = fx.bytes('dtypes_legacy.pth');
    const at = Buffer.from(bytes).indexOf('little_endian') + 'little_endian'.length;
    const flag = bytes.indexOf(0x88, at); // NEWTRUE after the key (and its memo put)
    expect(flag - at).toBeLessThan(4);
    bytes[flag] = 0x89;
    expect(refusal(bytes).message).toBe('hostile.pth: it was written on a big-endian machine; only little-endian checkpoints are read');
  });

  it('refuses malformed pickles with messages that say what is wrong, where', () => {
    const cases: [PickleBuilder, RegExp][] = [
      [new PickleBuilder().proto(2).emptyDict().int(1).append().stop(), /byte 5: APPEND to a dict/],
      [new PickleBuilder().proto(2).emptyList().int(1).int(2).raw(0x73).stop(), /SETITEM on a list or tuple/],
      [new PickleBuilder().proto(2).str('x').emptyTuple().reduce().stop(), /a call of a string, which is not callable/],
      [new PickleBuilder().proto(2).raw(0x68, 7).stop(), /memo entry 7 is read before it is written/],
      [new PickleBuilder().proto(2).tuple(), /an opcode needs a MARK but there is none/],
      [new PickleBuilder().proto(2).mark().tuple1(), /the stack is empty/],
      [new PickleBuilder().proto(2).emptyList(), /the pickle ends without STOP/],
      [new PickleBuilder().proto(9), /pickle protocol 9/],
      [new PickleBuilder().proto(2).global('torch', 'FloatStorage'.repeat(100)).stop(), /GLOBAL name has no newline within 1024 bytes/],
      [new PickleBuilder().proto(2).mark().str('storage').tuple().persid().stop(), /a persistent id that is not a storage record/],
      [
        new PickleBuilder().proto(2).global('torch._utils', '_rebuild_tensor_v2').int(1).tuple1().reduce().stop(),
        /a tensor is rebuilt with 1 arguments/,
      ],
    ];
    for (const [pickle, message] of cases) expect(refusal(zipCheckpoint(pickle.bytes(), {})).message).toMatch(message);
  });

  it('handles nesting 200,000 deep and cycles without recursion', () => {
    const depth = 200_000;
    const deep = new PickleBuilder().proto(2);
    for (let i = 0; i < depth; i++) deep.emptyList();
    for (let i = 1; i < depth; i++) deep.append();
    const ckpt = readTorchCheckpoint(zipCheckpoint(deep.stop().bytes(), {}), 'deep.pth');
    let d = 0;
    for (let v = ckpt.root as unknown[]; v.length; v = v[0] as unknown[]) d++;
    expect(d).toBe(depth - 1);
    const cycle = new PickleBuilder().proto(2).emptyList().raw(0x71, 0, 0x68, 0).append().stop(); // l = []; l.append(l)
    const root = readTorchCheckpoint(zipCheckpoint(cycle.bytes(), {}), 'cycle.pth').root as unknown[];
    expect(root[0]).toBe(root);
  });

  it('refuses every truncation of a legacy checkpoint and a sample of a zip one', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const legacy = fx.bytes('dtypes_legacy.pth');
    for (let n = 0; n < legacy.length; n++) expect(refusal(legacy.subarray(0, n), 'cut.pth').message).toMatch(/^cut\.pth: /);
    const zip = fx.bytes('lm_v2.pth');
    for (let n = 0; n < zip.length; n += 13) expect(refusal(zip.subarray(0, n), 'cut.pth').message).toMatch(/^cut\.pth: /);
    const itos = fx.bytes('itos.pkl');
    for (let n = 0; n < itos.length; n++) expect(() => readItos(itos.subarray(0, n), 'cut.pkl')).toThrow(CheckpointError);
  });

  it('a zip re-packed with deflate still reads (sizes bounded, not refused)', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const entries = unzipSync(fx.bytes('lm_v2.pth'));
    const deflated = zipSync(entries, { level: 6 });
    const ckpt = readTorchCheckpoint(deflated, 'deflated.pth');
    expect(ckpt.tensors.get('1.decoder.bias')!.data.length).toBe(11);
  });
});
