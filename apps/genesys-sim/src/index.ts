export { createSimApp, type SimApp } from './app';
export { startSim, type RunningSim, type StartSimOptions } from './server';
export { SimState } from './state';
export { genesysError, type GenesysErrorBody } from './genesys-error';
export type { CallRecord, FaultSpec, Participant, QueueCounts, SimConversation, SimEndpoint, SimOptions, SimStats } from './types';
