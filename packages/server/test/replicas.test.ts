import { replicaSuite } from './support/replica-suite.js';
import { useReplicas } from './support/replicas.js';

replicaSuite('three API server processes on one PostgreSQL and one Redis', useReplicas(3));
