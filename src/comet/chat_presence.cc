// ChatSession's presence requests (docs/protocol.md "Presence, typing and read state"): typing,
// read positions and member lists, and the presence fields of the rooms it sends.
#include <charconv>

#include "comet/chat_session.h"
#include "common/ids.h"
#include "common/presence_events.h"

namespace roomcast {
namespace {
PresenceApi& presence_api_of(Comet& comet) {
  auto* api = comet.presence_api();
  if (!api) throw ClientError("INTERNAL", "read state and member lists are not available here");
  return *api;
}

// `after` of requestRoomMembers: the decimal id of the last member of the previous page.
int64_t parse_after(const std::optional<std::string>& after) {
  if (!after) return 0;
  int64_t id = 0;
  auto [end, ec] = std::from_chars(after->data(), after->data() + after->size(), id);
  if (ec != std::errc() || end != after->data() + after->size() || id < 0)
    throw ClientError("BAD_REQUEST", "after is malformed");
  return id;
}
}  // namespace

void ChatSession::deliver_notice(const std::string& room_id, const Frame& frame) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end() || !it->second.ready()) return;
  send(frame);
}

void ChatSession::add_read_state(std::vector<RoomPage>& pages, bool positions_read) const {
  for (auto& page : pages) {
    // The page is the latest one: its first message is the room's newest.
    uint64_t newest = page.messages.empty() ? 0 : page.messages.front().seq;
    if (!positions_read) {
      // No read positions here (a comet without a PresenceApi): say "all read" rather than
      // "nothing read", so clients do not count a whole page as unread on every connect.
      page.last_read_seq = newest;
      continue;
    }
    page.last_read_seq = std::min(page.last_read_seq, newest);
    page.unread = unread_between(page.last_read_seq, newest);
  }
}

void ChatSession::add_online_counts(std::vector<RoomPage>& pages) const {
  for (auto& p : pages) p.online = comet_.presence_tracker().room_online(p.room.id);
}

asio::awaitable<void> ChatSession::typing(ClientEvent& ev) {
  if (!rooms_.count(ev.room_id)) throw ClientError("NOT_MEMBER", "you are not in this room");
  if (!comet_.typing_throttle().allow(user_.id, ev.room_id)) co_return;  // dropped silently
  auto event = typing_event(ev.room_id, user_);
  comet_.push_room_notice(ev.room_id, event, user_.id);
  if (auto* relay = comet_.notice_relay()) relay->room_notice(ev.room_id, event, user_.id);
}

asio::awaitable<void> ChatSession::mark_read(ClientEvent& ev) {
  auto seq = parse_message_id(ev.last_message_id);
  if (!seq) throw ClientError("BAD_REQUEST", "lastMessageId is malformed");
  if (!rooms_.count(ev.room_id)) throw ClientError("NOT_MEMBER", "you are not in this room");
  if (!comet_.presence_api()) co_return;  // no read positions kept here: nothing to store
  auto& api = *comet_.presence_api();
  auto state = co_await run_blocking(comet_.blocking(), [&api, user = user_.id, &ev, seq] {
    return api.mark_read(user, ev.room_id, *seq);
  });
  // A position already past the mark: an older id changes nothing, so nobody is told.
  if (state.last_read_seq > *seq) co_return;
  comet_.read_states().publish(user_.id, ev.room_id, state, id_);
}

asio::awaitable<void> ChatSession::room_members(ClientEvent& ev) {
  if (!rooms_.count(ev.room_id)) throw ClientError("NOT_MEMBER", "you are not in this room");
  int64_t after = parse_after(ev.after);
  auto& api = presence_api_of(comet_);
  auto page = static_cast<std::size_t>(std::max(1, comet_.config().presence.members_page));
  auto& lookup = comet_.cluster_online();
  std::vector<bool> elsewhere;  // online on another comet (distributed mode)
  auto users = co_await run_blocking(comet_.blocking(), [&, after, page] {
    auto found = api.room_members(ev.room_id, after, static_cast<int>(page) + 1);
    std::vector<int64_t> ids;
    for (auto& u : found) ids.push_back(u.id);
    try {
      if (lookup) elsewhere = lookup(ids);
    } catch (const std::exception&) {
      // The reports are unreadable (Redis down): this comet's own users are still known.
    }
    return found;
  });
  std::string next;
  if (users.size() > page) {
    users.resize(page);
    next = std::to_string(users.back().id);
  }
  std::vector<MemberEntry> members;
  members.reserve(users.size());
  auto& tracker = comet_.presence_tracker();
  for (std::size_t i = 0; i < users.size(); ++i) {
    bool remote = i < elsewhere.size() && elsewhere[i];
    members.push_back({users[i], remote || tracker.user_state(users[i].id).online});
  }
  send_text(room_members_event(ev.room_id, members, next));
}

}  // namespace roomcast
