/**
 * The meeting's toolbar (for views/meeting.ts): microphone, camera, screen sharing, raised hand,
 * the notes panel (the room's linked document in the editor, opened on first show), the devices
 * panel (camera and microphone choice, another camera in immersive rooms), recording and closing
 * the room for moderators, and leaving. The view calls `update` from its coalesced render; each action asks
 * for a render when done.
 */
import type { AppContext } from '../context.ts';
import { h, icon, mount } from '../dom.ts';
import { roomGrants } from '../grants.ts';
import { errorText, t } from '../i18n.ts';
import type { MeetingSession } from '../meeting/MeetingSession.ts';
import { addCameraButton } from '../meeting/participants.ts';

export interface MeetingControls {
  /** Draw the buttons for the current state of the meeting. */
  update(): void;
  /** Close the notes editor if it is open (the view is going away). */
  closeNotes(): void;
}

export function meetingControls(opts: {
  ctx: AppContext;
  session: MeetingSession;
  controls: HTMLElement;
  notes: HTMLElement;
  moderator: boolean;
  immersive: boolean;
  render: () => void;
}): MeetingControls {
  const { ctx, session, controls, notes, moderator, immersive, render } = opts;
  const room = session.room;
  const me = ctx.identity;

  // the record button: `record` in the token's grants for this room (`moderate` also stops one);
  // an unreadable token offers it to the UI's moderators and the server decides
  const mayRecord = (running: boolean): boolean => {
    const grants = roomGrants(ctx.client.token, room.roomId);
    if (!grants) return moderator;
    return grants.includes('record') || (running && grants.includes('moderate'));
  };

  const deviceBox = h('details', { class: 'devices' });
  async function renderDevices(): Promise<void> {
    // enumeration refused: the panel shows empty selects rather than an error
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
    const cams = devices.filter((d) => d.kind === 'videoinput');
    const mics = devices.filter((d) => d.kind === 'audioinput');
    const camNow = session.local('camera')?.track.getSettings().deviceId;
    const micNow = session.local('mic')?.track.getSettings().deviceId;
    const select = (kind: 'camera' | 'mic', list: MediaDeviceInfo[], now: string | undefined) =>
      h(
        'select',
        {
          id: `device-${kind}`,
          onchange: (e: Event) =>
            void room
              .switchDevice(kind, (e.target as HTMLSelectElement).value)
              .catch((err: Error) => ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error')),
        },
        list.map((d, i) =>
          h('option', { value: d.deviceId, selected: d.deviceId === now }, d.label || `${kind} ${i + 1}`),
        ),
      );
    mount(
      deviceBox,
      h('summary', null, icon('gear'), h('span', null, t('devicesTitle'))),
      h(
        'div',
        { class: 'device-panel card' },
        h('label', { for: 'device-camera' }, t('camera')),
        select('camera', cams, camNow),
        h('label', { for: 'device-mic' }, t('microphone')),
        select('mic', mics, micNow),
        immersive ? addCameraButton(ctx, session, cams, render) : null,
      ),
    );
  }
  mount(deviceBox, h('summary', null, icon('gear'), h('span', null, t('devicesTitle'))));
  deviceBox.addEventListener('toggle', () => {
    if (deviceBox.open) void renderDevices();
  });

  /** A start or stop of the recording asked for and not answered yet. */
  let recordingBusy: 'starting' | 'stopping' | undefined;

  let editorTeardown: (() => void) | undefined;
  async function openNotes(): Promise<void> {
    if (editorTeardown) return;
    const handle = await ctx.client.docs.open(room.record.docName);
    mount(notes, h('h2', null, t('notes')));
    const ed = (await import('../editor.ts')).createEditor(notes, handle, { sub: me.sub, name: me.name });
    editorTeardown = () => {
      ed.destroy();
      handle.close();
    };
  }
  if (!notes.hidden) void openNotes();

  /**
   * Quick actions under way (mic, camera, screen, hand, notes), by button id: a button stays disabled
   * until its action is answered, through every render meanwhile (a participant joining re-renders the
   * controls), so a second click never starts a second publish or toggle while the first runs.
   */
  const busy = new Set<string>();

  function button(id: string, on: boolean, ic: Parameters<typeof icon>[0], label: string, action: () => Promise<void>) {
    const pending = busy.has(id);
    return h(
      'button',
      {
        type: 'button',
        id,
        class: `control${on ? ' on' : ''}`,
        'aria-pressed': String(on),
        title: label,
        disabled: pending,
        'aria-busy': pending ? 'true' : undefined,
        onclick: (e: Event) => {
          if (busy.has(id)) return;
          busy.add(id);
          // at once on this element; the render (coalesced, a frame later) draws it busy as well
          const b = e.currentTarget as HTMLButtonElement;
          b.disabled = true;
          b.setAttribute('aria-busy', 'true');
          render();
          action()
            .catch((err: unknown) => ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error'))
            .finally(() => {
              busy.delete(id);
              render();
            });
        },
      },
      icon(ic),
      h('span', null, label),
    );
  }

  /**
   * Start or stop the recording. A stop waits for the files to be kept (up to RECORDING_STOP_MS): one
   * request at a time, and the button says what is under way through every render meanwhile — also
   * while the room's recording is `saving` (its files still being stored), whoever stopped it.
   */
  function recordButton(): HTMLElement {
    const saving = room.recording?.state === 'saving';
    // not the quick actions' `busy` set: a request of this button under way, or the room's saving
    const waiting = recordingBusy !== undefined || saving;
    return h(
      'button',
      {
        type: 'button',
        class: room.recording ? 'control active' : 'control',
        id: 'ctl-record',
        disabled: waiting,
        'aria-busy': waiting ? 'true' : undefined,
        onclick: () => {
          if (recordingBusy || room.recording?.state === 'saving') return;
          recordingBusy = room.recording ? 'stopping' : 'starting';
          render();
          void (recordingBusy === 'stopping' ? room.stopRecording() : room.startRecording())
            .catch((err: Error) => ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error'))
            .finally(() => {
              recordingBusy = undefined;
              render();
            });
        },
      },
      h(
        'span',
        null,
        recordingBusy === 'stopping' || saving
          ? t('stoppingRecording')
          : recordingBusy === 'starting'
            ? t('startingRecording')
            : room.recording
              ? t('stopRecording')
              : t('startRecording'),
      ),
    );
  }

  function renderControls(): void {
    const mic = session.local('mic');
    const cam = session.local('camera');
    const micOn = !!mic && !mic.paused;
    const camOn = !!cam && !cam.paused;
    const sharing = !!session.local('screen');
    mount(
      controls,
      button('ctl-mic', !micOn, micOn ? 'mic' : 'micOff', micOn ? t('mute') : t('unmute'), () => session.toggleMic()),
      button('ctl-cam', !camOn, camOn ? 'cam' : 'camOff', camOn ? t('cameraOff') : t('cameraOn'), () =>
        session.toggleCamera(),
      ),
      button('ctl-screen', sharing, 'screen', sharing ? t('stopShare') : t('shareScreen'), () =>
        session.toggleScreen(),
      ),
      button('ctl-hand', room.handRaised, 'hand', room.handRaised ? t('lowerHand') : t('raiseHand'), () =>
        session.toggleHand(),
      ),
      button('ctl-notes', !notes.hidden, 'notes', t('notes'), async () => {
        notes.hidden = !notes.hidden;
        if (!notes.hidden) await openNotes();
      }),
      deviceBox,
      // recording: the server decides (the `record` grant, the tier's policy); everyone sees the indicator.
      // Offered to whoever the token grants `record` (or `moderate` to stop a running one).
      mayRecord(room.recording !== null) ? recordButton() : null,
      moderator
        ? h(
            'button',
            {
              type: 'button',
              class: 'control danger-outline',
              id: 'ctl-close',
              title: t('closeRoom'),
              'aria-label': t('closeRoom'),
              onclick: () => {
                // ending the meeting for everyone is not undone: ask first
                if (!window.confirm(t('confirmCloseRoom'))) return;
                void room
                  .closeRoom()
                  .catch((err: Error) => ctx.toast(`${t('errorPrefix')}: ${errorText(err)}`, 'error'));
              },
            },
            h('span', null, t('closeRoom')),
          )
        : null,
      button('ctl-leave', false, 'leave', t('leave'), async () => {
        const page = `#/meeting/${encodeURIComponent(room.roomId)}`;
        await session.leave();
        // only from this meeting's page: meanwhile the page may have moved on (a call's room goes
        // back to where the person was before the call, calls/callUi.ts)
        if (location.hash === page) ctx.navigate('#/meeting');
      }),
    );
    controls.querySelector('#ctl-leave')?.classList.add('danger');
  }

  return {
    update: renderControls,
    closeNotes() {
      editorTeardown?.();
    },
  };
}
