/**
 * The telework pages under `#/telework/…` (the paths chat notices link to): `requests[/<id>]`,
 * `reports[/<id>]` and `dashboard[/<day>]`; anything else shows the requests page. The sites and
 * booking pages keep their own routes. Pages by name in a Map: a path part never reaches an
 * Object member.
 */
import type { View } from '../context.ts';
import { dashboardView } from './dashboard.ts';
import { reportsView } from './reports.ts';
import { requestsView } from './requests.ts';

const PAGES = new Map<string, View>([
  ['requests', requestsView],
  ['reports', reportsView],
  ['dashboard', dashboardView],
]);

export const teleworkView: View = (root, ctx, params) => {
  const page = PAGES.get(params[0] ?? '') ?? requestsView;
  return page(root, ctx, PAGES.has(params[0] ?? '') ? params.slice(1) : []);
};

/** The nav's key of a telework route (`telework/reports`), so the right tab is marked. */
export function teleworkTab(params: readonly string[]): string {
  const page = params[0] ?? '';
  return `telework/${PAGES.has(page) ? page : 'requests'}`;
}
