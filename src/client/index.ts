/** The checkups client SDK: `import { CheckupsClient } from 'checkups/client'`. */
export { CheckupsClient, type CheckupsClientOptions, type ClientStatus } from './client.ts';
export { connectionChannel, errorChannel } from './watch-connection.ts';
export type { ReadyOkOptions, SelectedPeer, SelectOptions, UpsTimeout } from '../balance/selection-engine.ts';
export type { AttemptInfo } from '../balance/try-driver.ts';
export type { RequestAttributes } from '../balance/request-key.ts';
export { CheckupsError, type CheckupsErrorCode } from '../util/errors.ts';
