export { onShutdown, type ShutdownLogger } from './shutdown';
export { superviseCluster, type ClusterLogger, type ClusterOptions } from './cluster';
