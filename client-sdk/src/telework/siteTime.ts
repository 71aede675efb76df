/**
 * A site's wall clock for apps (bookings are shown in the site's time zone, not the viewer's): the
 * protocol's one implementation, which the server uses too.
 */
export { addDays, type SiteClock, siteClock, siteInstant, weekdayOf } from '@moim/protocol/client';
