import type { HostGateway } from '../../contracts.js';
import type { EventCursor } from '../store/host-store.js';
import { parseHostEvents, type HostEventReply } from './host-replies.js';

/** The agent serves at most 200 events per call; a long backlog is read in pages up to this bound per poll. */
const MAX_PAGES = 50;
const PAGE = 200;

export interface FeedRead {
  readonly events: HostEventReply[];
  readonly cursor: EventCursor;
  /** The feed started over: the agent restarted (its events live in RAM, `seq` restarts at 1). */
  readonly restarted: boolean;
}

/**
 * Reads the host's events after `cursor`. The agent's sequence numbers restart with the
 * process, so the read starts one event early: if the event at `cursor.seq` is not the one
 * seen last (same time), the agent is a new incarnation and its feed is read from the start,
 * keeping only events newer than the last one seen.
 */
export async function readHostEvents(gw: HostGateway, hostId: string, cursor: EventCursor): Promise<FeedRead> {
  const page = async (after: number): Promise<HostEventReply[]> => parseHostEvents(await gw.call(hostId, 'GET', `/v1/events?after=${after}`));
  let restarted = false;
  let first = cursor.seq > 0 ? await page(cursor.seq - 1) : (await page(0)).filter((e) => e.time > cursor.time);
  if (cursor.seq > 0) {
    const anchor = first[0];
    if (anchor !== undefined && anchor.seq === cursor.seq && anchor.time === cursor.time) first = first.slice(1);
    else {
      restarted = true;
      first = (await page(0)).filter((e) => e.time > cursor.time);
    }
  }
  const events = [...first];
  let last = first.at(-1);
  let raw = first.length;
  for (let i = 1; i < MAX_PAGES && raw >= PAGE - 1 && last !== undefined; i++) {
    const more = await page(last.seq);
    raw = more.length;
    events.push(...more);
    last = more.at(-1) ?? last;
  }
  const end = events.at(-1);
  if (end !== undefined) return { events, cursor: { seq: end.seq, time: end.time }, restarted };
  // nothing new; after a restart with an empty feed, anchor nowhere so the next read starts at 0
  return { events, cursor: restarted ? { seq: 0, time: cursor.time } : cursor, restarted };
}
