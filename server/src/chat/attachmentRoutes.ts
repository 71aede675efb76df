import { MoimError } from '@moim/protocol';
import { Principal } from '../auth/Principal.ts';
import type { TokenService } from '../auth/TokenService.ts';
import { bearerToken, type HttpRouter, type RouteContext } from '../http/HttpRouter.ts';
import type { Logger } from '../logger.ts';
import type { Attachments } from './Attachments.ts';
import type { ChatActor } from './ChatService.ts';

export interface AttachmentRouteDeps {
  router: HttpRouter;
  tokens: TokenService;
  attachments: Attachments;
  log: Logger;
}

const CHANNEL_ID = /^[\w.:~-]{1,128}$/;
const ATTACHMENT_ID = /^[\w-]{1,64}$/;

/**
 * `POST /chat/channels/:id/attachments` — raw body; `Content-Type` is the file's type, the name in
 * `X-Filename` (URI-encoded) or `?filename=`; `Authorization: Bearer <token>`. Answers `{ attachment }`.
 * `GET /chat/attachments/:id?sub&exp&sig` — a link from `chat:attachment:link`.
 */
export function addAttachmentRoutes(d: AttachmentRouteDeps): void {
  d.router
    .add('POST', '/chat/channels/:id/attachments', async ({ req, res, url, params }) => {
      const principal = new Principal(d.tokens.verify(bearerToken(req, url)));
      principal.requireChat();
      const channelId = params.id ?? '';
      if (!CHANNEL_ID.test(channelId)) throw new MoimError('INVALID_PAYLOAD', 'bad channel id');
      const declared = req.headers['content-length'];
      const header = req.headers['x-filename'];
      let name = url.searchParams.get('filename') ?? 'file';
      if (typeof header === 'string') {
        try {
          name = decodeURIComponent(header);
        } catch {
          throw new MoimError('INVALID_PAYLOAD', 'X-Filename must be URI-encoded');
        }
      }
      const me: ChatActor = {
        sub: principal.sub,
        org: principal.token.org,
        site: principal.token.site,
        isAdmin: principal.isAdmin,
      };
      try {
        const attachment = await d.attachments.upload(me, channelId, {
          type: req.headers['content-type'] ?? '',
          name,
          declaredBytes: declared === undefined ? undefined : Number(declared),
          body: req,
        });
        return { status: 201, body: { attachment } };
      } catch (err) {
        // refused before (or while) reading the body: do not keep the connection for the rest of it
        if (!req.readableEnded) res.setHeader('connection', 'close');
        throw err;
      }
    })
    .body('file');

  const attachmentIdOf = (params: Record<string, string>): string => {
    const id = params.id ?? '';
    if (!ATTACHMENT_ID.test(id)) throw new MoimError('NOT_FOUND', 'no such attachment');
    return id;
  };
  // a signed link (no bearer token): the channel's policy switches are checked here, the person by the link
  const content = {
    kind: 'channel' as const,
    action: 'download' as const,
    target: async ({ params }: RouteContext) => {
      const at = await d.attachments.locate(attachmentIdOf(params));
      if (!at) throw new MoimError('NOT_FOUND', 'no such attachment');
      return { id: at.channelId, org: at.org };
    },
  };
  d.router.add(
    'GET',
    '/chat/attachments/:id',
    async ({ res, url, params }) => {
      const id = attachmentIdOf(params);
      const { attachment, stream, size } = await d.attachments.download(id, {
        sub: url.searchParams.get('sub'),
        exp: url.searchParams.get('exp'),
        sig: url.searchParams.get('sig'),
      });
      res.writeHead(200, {
        'content-type': attachment.type,
        'content-length': size,
        'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(attachment.name)}`,
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox; frame-ancestors 'none'",
      });
      stream.on('error', (err) => {
        // the headers went out: all that is left is to cut the response short
        d.log.warn({ err, attachment: attachment.id }, 'attachment read failed');
        res.destroy();
      });
      stream.pipe(res);
      return undefined;
    },
    { content },
  );
}
