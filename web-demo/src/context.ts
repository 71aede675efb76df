import type { MoimClient } from '@moim/client-sdk';
import type { MeetingSession } from './meeting/MeetingSession.ts';
import type { Identity } from './session.ts';

export interface AppContext {
  client: MoimClient;
  identity: Identity;
  /** The meeting this tab is in (kept while the person looks at other views). */
  meeting: MeetingSession | undefined;
  setMeeting(m: MeetingSession | undefined): void;
  navigate(hash: string): void;
  toast(message: string, kind?: 'info' | 'error'): void;
  /** A container outside the views where remote audio plays. */
  audioSink: HTMLElement;
}

/** A view renders into `root` and returns the function that tears it down. */
export type View = (root: HTMLElement, ctx: AppContext, params: string[]) => () => void;
