// Writes a run's report.html and run.json into a directory, each replaced atomically (a crash mid-write
// leaves the previous report, never half of one).
import fs from 'node:fs';
import path from 'node:path';

import { writeFileSynced } from '../io/atomic-dir.js';
import { renderReport } from './html.js';
import type { RunRecord } from './run-record.js';

function replaceFile(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSynced(tmp, [content]);
  fs.renameSync(tmp, file);
}

/** Returns the report's path. */
export function writeReport(dir: string, record: RunRecord): string {
  fs.mkdirSync(dir, { recursive: true });
  replaceFile(path.join(dir, 'run.json'), JSON.stringify(record, null, 1) + '\n');
  const file = path.join(dir, 'report.html');
  replaceFile(file, renderReport(record));
  return file;
}
