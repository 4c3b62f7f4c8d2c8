// What the Web SDK (tim-js-sdk 2.x, @tencentcloud/chat 3.x) asks for at start, answered as a presence server
// that holds no messages, contacts or groups: each list empty and finished, in the shape the SDK reads to stop
// paging (shared/spec/TIM-WIRE.md). Pure; the gateway (src/server/timGateway.ts) only dispatches here.
import { ErrorCode, StatusError } from '../../errors';
import { cloudConfig } from './wire';

/** The SDK re-fetches purchase bits after this (seconds); pushes keep it current in between. */
export const PURCHASE_BITS_TTL_SEC = 600;
/** The SDK re-fetches its cloud config after this (seconds). */
export const CLOUD_CONFIG_TTL_SEC = 86_400;

export interface BootContext {
  sdkAppId: number;
  /** The purchase bits of the current edition (wire.ts purchaseBits). */
  purchaseBits: string;
}

type Body = Record<string, unknown>;
type Answer = (body: Body, ctx: BootContext) => Body;

/**
 * Each boot command and its empty answer. Where the SDK pages, the answer says "done" in the field the SDK
 * tests, or it asks again at once, for ever (3.x pages the block list until `StartIndex` is 0: answered `{}`,
 * it sent ~5,800 requests a second). Field names are the vendor's REST ones; the SDK maps them to its own.
 */
export const BOOT_ANSWERS: Readonly<Record<string, Answer>> = Object.freeze({
  // Conversations: `CompleteFlag: 1` ends the paging (2.x and 3.x).
  'recentcontact.page_get': () => ({ CompleteFlag: 1, SessionItem: [], TimeStamp: 0, StartIndex: 0, TopTimeStamp: 0, TopStartIndex: 0 }),
  // Conversation groups: `CompleteFlag: 1` (0 pages again).
  'recentcontact.get_contact_group': () => ({ CompleteFlag: 1, NextStartIndex: 0, GroupItem: [], ContactItem: [] }),
  // Message sync: `SyncFlag: 2` ends it; 3.x reads `MsgList` as an array (without it its sync throws).
  'openim.getmsg': (body) => ({
    Cookie: typeof body.Cookie === 'string' && body.Cookie !== '' ? body.Cookie : 'status-engine',
    SyncFlag: 2,
    MsgList: [],
  }),
  // Block list: 3.x asks again while `StartIndex` is not 0.
  'sns.black_list_get': () => ({ BlackListItem: [], StartIndex: 0, CurrentSequence: 0 }),
  // Friends (3.x): `CompleteFlag: 1`, else it pages from `NextStartIndex`.
  'sns.friend_get': () => ({ UserDataItem: [], FriendNum: 0, StandardSequence: 0, CustomSequence: 0, NextStartIndex: 0, CompleteFlag: 1 }),
  // Friend groups (3.x).
  'sns.group_get': () => ({ ResultItem: [], CurrentSequence: 0 }),
  // Friend requests (3.x): the next call starts from `StartTime` / `CurrentSequence`.
  'sns.pendency_get': () => ({ PendencyItem: [], StartTime: 0, TotalPendencyNum: 0, UnreadPendencyCount: 0, CurrentSequence: 0 }),
  // Joined groups and communities: done when the offset reaches `TotalCount`.
  'group_open_http_svc.get_joined_group_list': () => ({ GroupIdList: [], TotalCount: 0 }),
  'million_group_open_http_svc.get_joined_group_list': () => ({ GroupIdList: [], TotalCount: 0 }),
  // Profiles: every user asked for, with no profile fields (the SDK asks for its own at start).
  'profile.portrait_get_all': (body) => ({
    UserProfileItem: (Array.isArray(body.UserItem) ? body.UserItem : [])
      .map((u) => (u !== null && typeof u === 'object' ? (u as Body).To_Account : undefined))
      .filter((id): id is string => typeof id === 'string')
      .map((To_Account) => ({ To_Account, ProfileItem: [], ResultCode: 0, ResultInfo: '' })),
  }),
  // C2C mute settings (2.x).
  'openim.get_c2c_peer_mute_notifications': () => ({ MuteNotificationsList: [], UpdateSequence: 0 }),
  // The file service's key (2.x): none; the SDK keeps its empty one.
  'openim.authkey': () => ({}),
  // The SDK's telemetry, sent before the cloud config below switches it off: taken and dropped.
  'imopenstat.tim_web_report_v2': () => ({}),
  'im_sdk_config_mgr.fetch_config': (_body, ctx) => ({
    int32_error_code: 0,
    str_json_config: cloudConfig(ctx.sdkAppId),
    uint32_expired_time: CLOUD_CONFIG_TTL_SEC,
    uint64_version: 1,
  }),
  'im_sdk_config_mgr.fetch_imsdk_purchase_bitsv2': (_body, ctx) => ({
    int32_error_code: 0,
    str_purchase_bits: ctx.purchaseBits,
    uint32_expired_time: PURCHASE_BITS_TTL_SEC,
  }),
});

const MAX_SERVCMD_IN_MESSAGE = 64;

/**
 * The answer to a command the gateway does not serve itself: a boot command's empty result, or else the
 * error 60009 naming the command. The SDK rejects that call's promise with it and does not ask again (it
 * retries on its own only for 70001/20002, session keys, and 10018 on a group list: see docs/tim-compat.md).
 */
export function bootAnswer(servcmd: string, body: Body, ctx: BootContext): Body {
  const answer = Object.hasOwn(BOOT_ANSWERS, servcmd) ? BOOT_ANSWERS[servcmd] : undefined;
  if (answer) return answer(body, ctx);
  throw new StatusError(
    ErrorCode.UNKNOWN_COMMAND,
    `status-engine serves user status only: '${servcmd.slice(0, MAX_SERVCMD_IN_MESSAGE)}' is not a command it answers`,
    { param: 'servcmd' },
  );
}
