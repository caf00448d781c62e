// Headless Chromium for the tests that run in a browser (the report's plots, ulmfit/onnx on onnxruntime-web):
// Debian's `chromium` package, or another Chromium on PATH; undefined where there is none.
import { execFileSync } from 'node:child_process';

export const chromium = ['chromium', 'chromium-browser', 'google-chrome']
  .map((name) => {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  })
  .find(Boolean);
