// What an exported ONNX file says about itself, in its metadata_props, so that the file alone classifies raw
// text: the format and its version, the model kind and directions, the vocabulary, the classes, how inputs
// were shaped in training, and the tokenizer rules the vocabulary was built with. Shared by the exporter and
// the LibTorch-free loaders (no native code here).
import { z } from 'zod';

export const ONNX_FORMAT = 'ulmfit-onnx';
export const ONNX_FORMAT_VERSION = 1;

export const OnnxMetadataSchema = z.object({
  format: z.literal(ONNX_FORMAT),
  formatVersion: z.literal(ONNX_FORMAT_VERSION),
  kind: z.enum(['classifier', 'language-model']),
  directions: z
    .array(z.enum(['forward', 'backward']))
    .min(1)
    .max(2),
  vocab: z.array(z.string()).min(1),
  classes: z.array(z.string()).nullable(),
  input: z.object({
    maxTokens: z.number().int().positive().nullable(),
    textFields: z.array(z.union([z.string(), z.number().int().nonnegative()])).nullable(),
  }),
  rulesVersion: z.string().nullable(),
  ulmfitVersion: z.string(),
});

export type OnnxMetadata = z.output<typeof OnnxMetadataSchema>;

const KEY = 'ulmfit';

/** The metadata as the file's one metadata_props entry (key "ulmfit", JSON). */
export function metadataProps(m: OnnxMetadata): Record<string, string> {
  return { [KEY]: JSON.stringify(m) };
}

export class OnnxFileError extends Error {
  readonly code = 'ERR_ULMFIT_ONNX';
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'OnnxFileError';
  }
}

/** Reads our metadata back from a decoded model's metadata_props, or says why the file is not ours. */
export function parseMetadata(props: readonly { key?: string | null; value?: string | null }[], file: string): OnnxMetadata {
  const entry = props.find((p) => p.key === KEY);
  if (!entry?.value) throw new OnnxFileError(file, 'an ONNX model, but not one exported by ulmfit (no "ulmfit" metadata)');
  let json: unknown;
  try {
    json = JSON.parse(entry.value);
  } catch {
    throw new OnnxFileError(file, 'its "ulmfit" metadata is not JSON');
  }
  const format = (json as { format?: unknown; formatVersion?: unknown }) ?? {};
  if (format.format === ONNX_FORMAT && format.formatVersion !== ONNX_FORMAT_VERSION) {
    throw new OnnxFileError(
      file,
      `exported in format version ${String(format.formatVersion)}; this ulmfit reads version ${ONNX_FORMAT_VERSION}`,
    );
  }
  const parsed = OnnxMetadataSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new OnnxFileError(file, `its "ulmfit" metadata is malformed at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
