import { replicaSuite } from './support/replica-suite.js';
import { useReplicas } from './support/replicas.js';

// The default installation passes the suite a cluster must pass, as its one process on lowdb.
replicaSuite('the embedded default, one API server process on its data directory', useReplicas(1, { embedded: true }));
