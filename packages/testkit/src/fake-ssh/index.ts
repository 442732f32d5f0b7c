export { startFakeSsh, type FakeSsh, type FakeSshOptions } from './fake-ssh.js';
export { VirtualHost, type VirtualHostOptions, type VirtualModel, type VirtualRemoteFile } from './virtual-host.js';
export { splitWords } from './words.js';
export { sshKeyPair } from './keys.js';
