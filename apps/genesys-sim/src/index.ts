export { createSimApp, type SimApp } from './app';
export { startSim, type RunningSim, type StartSimOptions } from './server';
export { SimState, queueCounts } from './state';
export { conversationBody, type ConversationBody } from './routes/api';
export { genesysError, type GenesysErrorBody } from './genesys-error';
export { MEDIA_TYPES, PARTICIPANT_PURPOSES } from './types';
export type {
  CallRecord,
  FaultSpec,
  MediaCounts,
  MediaType,
  Participant,
  ParticipantPurpose,
  QueueCounts,
  QueueInput,
  SimConversation,
  SimEndpoint,
  SimOptions,
  SimStats,
} from './types';
