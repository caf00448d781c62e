// The platform contract: Linux on x86-64 with glibc 2.28 or newer. Everything else is "not supported yet",
// said plainly before any native code is touched.

export const MIN_GLIBC = [2, 28];

export class PlatformError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PlatformError';
    this.code = 'ERR_ULMFIT_PLATFORM';
  }
}

/** The running glibc version ("2.36"), or null on a libc that is not glibc (e.g. musl). */
export function glibcVersion() {
  const header = process.report?.getReport?.().header;
  return header?.glibcVersionRuntime ?? null;
}

/** Null when this platform is supported, else why not. `facts` lets tests describe another machine. */
export function platformProblem(facts = {}) {
  const platform = facts.platform ?? process.platform;
  const arch = facts.arch ?? process.arch;
  const glibc = 'glibc' in facts ? facts.glibc : glibcVersion();
  const here = `${platform}-${arch}`;
  if (platform !== 'linux' || arch !== 'x64') {
    return `ulmfit does not support ${here} yet: it runs on Linux x86-64 (glibc ${MIN_GLIBC.join('.')} or newer) for now`;
  }
  if (!glibc) return 'ulmfit does not support this Linux yet: it needs glibc (musl-based systems such as Alpine are not supported)';
  const [major, minor] = glibc.split('.').map(Number);
  if (major < MIN_GLIBC[0] || (major === MIN_GLIBC[0] && minor < MIN_GLIBC[1])) {
    return `ulmfit does not support glibc ${glibc} yet: it needs glibc ${MIN_GLIBC.join('.')} or newer (LibTorch's own minimum)`;
  }
  return null;
}

export function assertSupportedPlatform(facts) {
  const problem = platformProblem(facts);
  if (problem) throw new PlatformError(problem);
}

/** The folder name prebuilt binaries use for this platform. */
export function platformTag() {
  return `${process.platform}-${process.arch}`;
}
