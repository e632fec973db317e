/** The checkups client SDK: `import { CheckupsClient } from 'checkups/client'`. */
export { CheckupsClient, type CheckupsClientOptions, type ClientEvents, type ClientStatus, type RejectedFeedback } from './client.ts';
export { AdminClient, type AdminClientOptions, type EventsOptions, type PeerAddress, type ServersReport, type UpstreamDocument, type WriteResult } from './admin.ts';
export type { ConnectionOptions } from './connection.ts';
export { connectionChannel, errorChannel } from './watch-connection.ts';
export type { FeedbackQueueOptions } from './feedback-queue.ts';
export type { ReadyOkOptions, SelectedPeer, SelectOptions, UpsTimeout } from '../balance/selection-engine.ts';
export type { AttemptInfo } from '../balance/try-driver.ts';
export type { RequestAttributes } from '../balance/request-key.ts';
export type { Clock, Timer } from '../util/clock.ts';
export type { ClusterKey, HeartbeatStatus } from '../core/model.ts';
export type { RawCluster, RawServer, RawUpstream, StoredUpstream } from '../core/document.ts';
export type { ServerChange, UpstreamWrite } from '../wire/admin.ts';
export type { PassiveWord } from '../wire/status.ts';
export type { CheckerReport, ClusterReport, EventReport, PeerReport, ServerReport, StatusReport, UpstreamReport, UpstreamSummaryReport, XdsNodeReport } from '../wire/report.ts';
export { CheckupsError, type CheckupsErrorCode } from '../util/errors.ts';
