/** Why a step below a folder was refused (beneath.ts): a code a caller can branch on, and the path below the root. */
export type BeneathCode =
  /** A symlink where a folder was expected (planted, or in the way): never followed. */
  | 'LINK_IN_PATH'
  /** Something that is not a folder (a file, a fifo…) where a folder was expected. */
  | 'NOT_A_FOLDER'
  /** A name that is not one plain path segment. */
  | 'BAD_NAME'
  /** /proc/self/fd does not work here, so nothing can be done safely. */
  | 'NO_PROC_FD'
  /** A tree deeper than we hold descriptors for, or one that kept changing under a delete. */
  | 'TOO_DEEP'
  | 'KEEPS_CHANGING';

export class BeneathError extends Error {
  constructor(
    readonly code: BeneathCode,
    readonly path: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'BeneathError';
  }
}
