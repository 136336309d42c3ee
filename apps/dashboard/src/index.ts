export { createDashboardApp, type DashboardDeps, type DashboardLogger } from './app';
export { adminAuth, presentedSecret, tokenMatches, ADMIN_REALM } from './admin-auth';
export { parseTimeRange } from './time-range';
