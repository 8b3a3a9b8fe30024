#include "discovery/known_nodes.h"

#include <algorithm>
#include <charconv>

namespace roomcast {

NodeInfo parse_node_entry(const std::string& role, const std::string& id,
                          const std::string& value) {
  NodeInfo node{role, id, "", "", 0};
  std::string* fields[] = {&node.address, &node.public_address};
  std::size_t start = 0;
  for (auto* field : fields) {
    auto tab = value.find('\t', start);
    *field = value.substr(start, tab == std::string::npos ? std::string::npos : tab - start);
    if (tab == std::string::npos) return node;
    start = tab + 1;
  }
  auto load = std::string_view(value).substr(start);
  auto [end, ec] = std::from_chars(load.data(), load.data() + load.size(), node.load);
  if (ec != std::errc{} || end != load.data() + load.size()) node.load = 0;
  return node;
}

bool KnownNodes::update(std::vector<NodeInfo> live, const std::string& epoch,
                        Clock::time_point now) {
  bool lost = epoch_ && !epoch_->empty() && *epoch_ != epoch;
  if (lost) lost_at_ = now;
  epoch_ = epoch;
  if (lost_at_ && now - *lost_at_ < grace_) {
    for (auto& known : nodes_)
      if (std::none_of(live.begin(), live.end(), [&](auto& n) { return n.id == known.id; }))
        live.push_back(known);
  }
  std::sort(live.begin(), live.end(), [](auto& a, auto& b) { return a.id < b.id; });
  nodes_ = std::move(live);
  return lost;
}

}  // namespace roomcast
