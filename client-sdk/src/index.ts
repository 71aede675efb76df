// the parts of the wire contract an application needs (so apps depend on the SDK only)
export type {
  Approval,
  ApprovalComment,
  ApprovalStatus,
  ApprovalStep,
  ApprovalSummary,
  AttachmentRef,
  AttendanceDay,
  Booking,
  CallHistoryEntry,
  CallHistoryMeeting,
  CallHistoryPage,
  CallInfo,
  CallMeeting,
  CallParty,
  CallPartyState,
  CallState,
  Channel,
  ChatMessage,
  DashboardPerson,
  DashboardSite,
  DashboardStatus,
  DashboardTeam,
  DashboardView,
  Delegation,
  DocInfo,
  DocListSort,
  DocTitleEvent,
  DocVersionInfo,
  ErrorCode,
  MeetingRoomTier,
  MyChannel,
  OpeningHours,
  PeerInfo,
  PersonPresence,
  Place,
  PlaceInput,
  PlaceKind,
  PresenceState,
  PriorityCategory,
  RecordingInfo,
  RecordingPolicy,
  RequestDayStatus,
  Role,
  RoomRecordInfo,
  Site,
  SiteInput,
  SiteKind,
  TeleworkRequest,
  TeleworkRequestDay,
  TeleworkRequestInput,
  Tier,
  TierProfile,
  WorkReport,
  WorkReportStatus,
  WorkReportSummary,
} from '@moim/protocol';
export {
  CALL_LEFT_REASON,
  CALL_ROOM_PREFIX,
  DOC_TITLE_MAX,
  docTitleProblem,
  legacyDocTitle,
  MoimError,
  normalizeDocTitle,
  PRESENCE_STATES,
  ROLES,
  roomNotesDocName,
  TIER_PROFILES,
  TIERS,
} from '@moim/protocol/client';
export type { CallsEvents } from './calls/Calls.ts';
export { Calls, callActive, invitationEndedBy, meetingToJoin, ringsOn } from './calls/Calls.ts';
export type { ChatEvents, PendingMessage } from './chat/Chat.ts';
export { Chat } from './chat/Chat.ts';
export type { DocHandle, DocsEvents } from './docs/Docs.ts';
export { Docs, wsUrl } from './docs/Docs.ts';
export type { DevToken, DevTokenInput } from './http.ts';
export { devToken } from './http.ts';
export type { LineLevel, LogContext, LogExtension, Logger, LoggerName, LogLevel } from './logger.ts';
export { getLogger, getLogLevel, LOG_LEVELS, LoggerNames, setLogExtension, setLogLevel } from './logger.ts';
export type { ClientEvents, ConnectionState, ConnectOptions, Me } from './MoimClient.ts';
export { connect, MoimClient } from './MoimClient.ts';
export type { PresenceEvents, PresenceFilter } from './presence/Presence.ts';
export { Presence } from './presence/Presence.ts';
export { chooseSpatialLayer } from './rooms/layers.ts';
export { RemoteTrack } from './rooms/RemoteTrack.ts';
export type { LocalTrack, RemotePeer, RoomEvents } from './rooms/Room.ts';
export { Room } from './rooms/Room.ts';
export type { NetworkPolicy, RoomsOptions } from './rooms/Rooms.ts';
export { Rooms } from './rooms/Rooms.ts';
export type { NetworkQuality, TrackFigures } from './rooms/stats.ts';
export type { ApprovalListOptions } from './telework/Approvals.ts';
export { Approvals } from './telework/Approvals.ts';
export {
  BOOKING_LIMITS,
  MEETING_ROOM_TIERS,
  PLACE_KINDS,
  SITE_KINDS,
  TELEWORK_ID_RE,
  TELEWORK_LIMITS,
} from './telework/constants.ts';
export { TeleworkDashboard } from './telework/Dashboard.ts';
export { TeleworkRequests } from './telework/Requests.ts';
export type { SiteClock } from './telework/siteTime.ts';
export { addDays, siteClock, siteInstant, weekdayOf } from './telework/siteTime.ts';
export type { BookRequest, Instant, TeleworkOptions } from './telework/Telework.ts';
export { Telework } from './telework/Telework.ts';
export { WorkReports } from './telework/WorkReports.ts';
export type { TeleworkType } from './telework/workflowConstants.ts';
export {
  APPROVAL_STATUSES,
  DASHBOARD_STATUSES,
  PRIORITY_CATEGORIES,
  REQUEST_DAY_STATUSES,
  TELEWORK_TYPES,
  TELEWORK_WORKFLOW_LIMITS,
  WORK_REPORT_STATUSES,
} from './telework/workflowConstants.ts';
export { randomId, tokenExpiry } from './token.ts';
