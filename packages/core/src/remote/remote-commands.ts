import { shellCommand, shellQuote } from './shell-quote.js';

/**
 * The only command lines the runner sends. The script lives in a folder relative to the login's home (sshd starts
 * commands there); every word, fixed or not, goes through the quoting helper.
 */
export const scriptPath = (remoteDir: string): string => `${remoteDir}/remote.sh`;

/** Prints the sha256 of the installed script (that of an empty input when there is none). */
export const scriptHashCommand = (remoteDir: string): string => `cat ${shellQuote(scriptPath(remoteDir))} 2>/dev/null | sha256sum`;

/** Installs the script read from stdin, replacing the old one only once the new one is complete. */
export function scriptUploadCommand(remoteDir: string): string {
  const path = scriptPath(remoteDir);
  return `umask 077 && mkdir -p ${shellQuote(remoteDir)} && cat > ${shellQuote(`${path}.new`)} && mv -f ${shellQuote(`${path}.new`)} ${shellQuote(path)}`;
}

/** `sh <dir>/remote.sh <subcommand> <args...>`. */
export const scriptCommand = (remoteDir: string, args: readonly string[]): string => shellCommand(['sh', scriptPath(remoteDir), ...args]);
