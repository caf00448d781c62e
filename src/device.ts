// Devices are named as in PyTorch: "cpu", "cuda" (the current CUDA device) or "cuda:N".
import { z } from 'zod';

import { native } from './native/loader.js';
import { validate } from './options.js';

export const DeviceSchema = z.string().regex(/^(cpu|cuda(:\d{1,4})?)$/, { message: 'must be "cpu", "cuda" or "cuda:N"' });

export type Device = z.infer<typeof DeviceSchema>;

/**
 * Validates a device string against this LibTorch and machine (CUDA on a CPU-only LibTorch, or an index past
 * the device count, is an error saying so) and returns its canonical form.
 */
export function parseDevice(device: string): Device {
  return native().checkDevice(validate(DeviceSchema, device, 'device'));
}
