/**
 * The meeting's recordings (for views/meeting.ts): each recording of the room with its state,
 * start time and duration, and a download button per file for people the tier's policy allows.
 * The list is asked again whenever a recording starts, stops or fails (`room.recording`
 * changes) and on the refresh button. A download fetches the file with the bearer token (a plain
 * link would carry none), with a passkey step-up when the server asks for one, and saves the blob.
 */
import { getLogger, type RecordingInfo, type RecordingPolicy } from '@moim/client-sdk';
import type { AppContext } from '../context.ts';
import { h, mount } from '../dom.ts';
import { roomGrants } from '../grants.ts';
import { errorText, t } from '../i18n.ts';
import { withStepUp } from '../session.ts';
import { formatDateTime } from '../time.ts';
import type { MeetingSession } from './MeetingSession.ts';

const log = getLogger('moim.web.recordings');

export interface RecordingsPanel {
  el: HTMLElement;
  /** Call on every render: asks the list again when the running recording changed. */
  update(): void;
  dispose(): void;
}

/** Whether this person may download the room's recordings (the server checks again). */
export function mayDownload(
  ctx: AppContext,
  room: { roomId: string; ownerSub: string },
  policy: RecordingPolicy,
): boolean {
  if (!policy.downloadsAllowed) return false;
  const grants = roomGrants(ctx.client.token, room.roomId);
  if (!grants) return true; // token unreadable: offer it, the server decides
  if (grants.includes('record') || grants.includes('moderate') || ctx.identity.sub === room.ownerSub) return true;
  return policy.downloadBy === 'participants' && grants.includes('join');
}

function duration(r: RecordingInfo): string {
  const s = Math.max(0, Math.round(((r.endedAt ?? Date.now()) - r.startedAt) / 1000));
  return t('rec_duration', { min: Math.floor(s / 60), sec: s % 60 });
}

export function recordingsPanel(ctx: AppContext, session: MeetingSession): RecordingsPanel {
  const room = session.room;
  const list = h('ul', { class: 'recordings-list' });
  const el = h(
    'section',
    { class: 'recordings card', id: 'recordings' },
    h(
      'h2',
      null,
      t('rec_title'),
      ' ',
      h('button', { type: 'button', class: 'ghost small', onclick: () => void load() }, t('rec_refresh')),
    ),
    list,
  );
  let alive = true;
  let seen: string | undefined;
  let asked = 0;

  async function download(r: RecordingInfo, file: string): Promise<void> {
    const path = `/recordings/${encodeURIComponent(r.recordingId)}/files/${encodeURIComponent(file)}`;
    const fetchFile = async (): Promise<Blob> => {
      const token = await ctx.client.currentToken();
      const res = await fetch(`${ctx.client.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.ok) return res.blob();
      // a refusal is JSON with its code; anything else is reported by its HTTP status
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      throw Object.assign(new Error(body.error?.message ?? `HTTP ${res.status}`), { code: body.error?.code });
    };
    try {
      // downloads are a sensitive action: where step-up is on, the passkey is asked and it runs again
      const url = URL.createObjectURL(await withStepUp(ctx.client, fetchFile));
      const a = h('a', { href: url, download: `${r.recordingId}-${file}`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      log.warn('downloading a recording failed', { recordingId: r.recordingId, file, error: err });
      ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error');
    }
  }

  function draw(recordings: RecordingInfo[], policy: RecordingPolicy): void {
    const allowed = mayDownload(ctx, { roomId: room.roomId, ownerSub: room.record.ownerSub }, policy);
    if (!recordings.length) {
      mount(list, h('li', { class: 'muted' }, t('rec_none')));
      return;
    }
    mount(
      list,
      recordings.map((r) => {
        const files =
          r.state === 'recording' || r.state === 'saving'
            ? []
            : r.manifest.tracks.flatMap((tr) =>
                tr.segments.filter((s) => s.status === 'ok' && s.bytes > 0).map((s) => s.file),
              );
        return h(
          'li',
          { class: 'recording-item', dataset: { recordingId: r.recordingId, state: r.state } },
          h('strong', { class: 'recording-state' }, t(`rec_state_${r.state}`)),
          ' ',
          h('span', { class: 'recording-start' }, t('rec_started', { time: formatDateTime(r.startedAt) })),
          ' · ',
          h('span', { class: 'recording-duration' }, duration(r)),
          files.length && allowed
            ? h(
                'div',
                { class: 'recording-files' },
                files.map((file) =>
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'ghost small recording-file',
                      dataset: { file },
                      onclick: () => void download(r, file),
                    },
                    t('rec_download', { file }),
                  ),
                ),
              )
            : files.length
              ? h('div', { class: 'muted' }, t('rec_noDownload'))
              : null,
        );
      }),
    );
  }

  async function load(): Promise<void> {
    const mine = ++asked;
    try {
      const { recordings, policy } = await room.recordings();
      if (alive && mine === asked) draw(recordings, policy);
    } catch (err) {
      log.warn('listing recordings failed', { roomId: room.roomId, error: err });
      if (alive && mine === asked) mount(list, h('li', { class: 'muted' }, errorText(err)));
    }
  }

  return {
    el,
    update() {
      const key = room.recording ? `${room.recording.recordingId}:${room.recording.state}` : '';
      if (key === seen) return;
      seen = key;
      void load();
    },
    dispose() {
      alive = false;
    },
  };
}
