export { startFakeSsh, type FakeSsh, type FakeSshOptions } from './fake-ssh.js';
export { VirtualHost, type DownloadFault, type VirtualHostOptions, type VirtualModel, type VirtualRemoteFile } from './virtual-host.js';
export { virtualHostStateSchema, type VirtualHostState } from './virtual-host-state.js';
export { splitWords } from './words.js';
export { sshKeyPair } from './keys.js';
