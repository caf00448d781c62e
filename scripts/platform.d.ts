export class PlatformError extends Error {
  code: 'ERR_ULMFIT_PLATFORM';
}
export const MIN_GLIBC: [number, number];
export function glibcVersion(): string | null;
export function platformProblem(facts?: { platform?: string; arch?: string; glibc?: string | null }): string | null;
export function assertSupportedPlatform(facts?: { platform?: string; arch?: string; glibc?: string | null }): void;
export function platformTag(): string;
