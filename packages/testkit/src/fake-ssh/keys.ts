import ssh2 from 'ssh2';

/**
 * An ed25519 key pair that ssh2 can read back. ssh2 1.17's generator drops a leading zero byte of the private
 * scalar (about one key in 256), writing a key its own parser then rejects as malformed: such a pair is skipped.
 */
export function sshKeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}
