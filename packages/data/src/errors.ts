/** What kind of problem a {@link DataError} reports; stable, for programs that react to it. */
export type DataErrorCode =
  | 'not-found'
  | 'empty'
  | 'missing-mask'
  | 'size-mismatch'
  | 'corrupt'
  | 'unsupported-format'
  | 'invalid-layout'
  | 'invalid-option'
  | 'too-large'
  /** A path (a split-file row, a symbolic link) that leads outside the folder being loaded. */
  | 'outside-root';

/**
 * The error every loader throws for bad input. It names the file, folder or setting at fault
 * (`subject`), says what is wrong (`problem`) and how to fix it (`fix`); `message` is all three,
 * `"<subject>: <problem>. <fix>"`. Programs that show the fix on its own line read the fields.
 */
export class DataError extends Error {
  override readonly name = 'DataError';

  /**
   * @param code - the kind of problem
   * @param subject - the file, folder or option at fault
   * @param problem - what is wrong, as a sentence without the subject
   * @param fix - what the user should do
   */
  constructor(
    readonly code: DataErrorCode,
    readonly subject: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${subject}: ${problem}. ${fix}`);
  }
}
