import { ExportError } from '../errors.js';

/**
 * How a failing destination is reported: TARGET_FAILED, naming the file as the user would see
 * it (`survey.csv`, `survey-000003.csv`) and carrying the system's own words ("ENOSPC: no
 * space left on device, write"), but never a path of the machine the export runs on: an
 * export's errorMessage is shown to API clients, who must not learn the server's layout.
 */

/** `action` is what was being done, with the file's name in it: "writing survey.csv". */
export function targetFailed(action: string, err: unknown): ExportError {
  if (err instanceof ExportError) return err;
  return new ExportError('TARGET_FAILED', `${action} failed: ${describeCause(err)}`, {}, { cause: err });
}

/**
 * The message of `err` without the paths node puts into system errors (`open '/srv/x'`,
 * `rename '/a' -> '/b'`): the code, description and system call stay. Other errors (a
 * caller's Writable) keep their message as it is.
 */
export function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fs errors carry the paths they were about: path, and dest for rename, link, copyFile.
  const sys = err as NodeJS.ErrnoException & { dest?: unknown };
  let text = err.message;
  if (typeof sys.dest === 'string') text = text.split(` -> '${sys.dest}'`).join('');
  if (typeof sys.path === 'string') text = text.split(` '${sys.path}'`).join('');
  // A system error whose path node gave in another form (a Buffer, a URL) still loses it.
  if (isSystemError(err)) text = text.replace(/ (-> )?'[^']*[/\\][^']*'/g, '');
  return text;
}

/** An error from the operating system (it has an errno code and a system call), not from code. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  if (!(err instanceof Error)) return false;
  const sys = err as NodeJS.ErrnoException;
  return typeof sys.code === 'string' && typeof sys.syscall === 'string';
}

/**
 * Makes an error raised while a part was being written name that part: a system error from an
 * encoder's own temporary files becomes TARGET_FAILED, and a TARGET_FAILED that does not name
 * the file yet (the dta strL spool's) gets its name in front. Anything else is returned as it
 * is (a bug stays INTERNAL, a bad value keeps its code).
 */
export function inPart(err: Error, file: string): Error {
  if (err instanceof ExportError) {
    if (err.code !== 'TARGET_FAILED' || err.detail.includes(file)) return err;
    const place = { format: err.format, column: err.column, row: err.row };
    return new ExportError('TARGET_FAILED', `${file}: ${err.detail}`, place, { cause: err.cause ?? err });
  }
  return isSystemError(err) ? targetFailed(`writing ${file}`, err) : err;
}
