/**
 * Recordings over HTTP (`Authorization: Bearer <token>`):
 * `GET /rooms/:roomId/recordings` — the room's recordings with their manifests and the tier's policy;
 * `GET /recordings/:id/files/:file` — one WebM file, audited, for the people the tier's policy allows
 * (FORBIDDEN otherwise; POLICY_FORBIDS where `downloadsAllowed` is false; STEP_UP_REQUIRED without a
 * fresh passkey or certificate where step-up is on). Any node serves both:
 * the records and files are in the shared stores.
 */
import { MoimError, mediaIdSchema, recordingFileSchema, roomIdSchema } from '@moim/protocol';
import { Principal } from '../auth/Principal.ts';
import type { StepUp } from '../auth/StepUp.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { bearerToken, type HttpRouter, type RouteContext } from '../http/HttpRouter.ts';
import type { Logger } from '../logger.ts';
import type { Recordings } from './Recordings.ts';

export interface RecordingRouteDeps {
  router: HttpRouter;
  tokens: TokenService;
  recordings: Recordings;
  /** Downloading a recording is a sensitive action: a fresh second factor where step-up is on. */
  stepUp?: StepUp | undefined;
  log: Logger;
}

export function addRecordingRoutes(d: RecordingRouteDeps): void {
  d.router.add('GET', '/rooms/:roomId/recordings', async ({ req, url, params }) => {
    const principal = new Principal(d.tokens.verify(bearerToken(req, url)));
    const roomId = roomIdSchema.safeParse(params.roomId);
    if (!roomId.success) throw new MoimError('NOT_FOUND', 'no such room');
    return { body: await d.recordings.list(principal, { roomId: roomId.data }) };
  });

  // a recording's file is its room's stored content: the router checks the room's data-leak policy first
  const download = {
    kind: 'room' as const,
    action: 'download' as const,
    target: async ({ req, url, params }: RouteContext) => {
      const id = mediaIdSchema.safeParse(params.id);
      if (!id.success) throw new MoimError('NOT_FOUND', 'no such recording');
      const principal = new Principal(d.tokens.verify(bearerToken(req, url)));
      return { id: await d.recordings.roomOf(principal, id.data) };
    },
  };
  d.router.add(
    'GET',
    '/recordings/:id/files/:file',
    async ({ req, res, url, params }) => {
      const principal = new Principal(d.tokens.verify(bearerToken(req, url)));
      const id = mediaIdSchema.safeParse(params.id);
      const file = recordingFileSchema.safeParse(params.file);
      if (!id.success || !file.success) throw new MoimError('NOT_FOUND', 'no such recording file');
      d.stepUp?.require(principal, 'downloading a recording');
      const { stream, size } = await d.recordings.download(principal, id.data, file.data);
      res.writeHead(200, {
        'content-type': 'video/webm',
        'content-length': size,
        'content-disposition': `attachment; filename="${id.data}-${file.data}"`,
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox; frame-ancestors 'none'",
      });
      stream.on('error', (err) => {
        // the headers went out: all that is left is to cut the response short
        d.log.warn({ err, recording: id.data, file: file.data }, 'recording read failed');
        res.destroy();
      });
      stream.pipe(res);
      return undefined;
    },
    { content: download },
  );
}
