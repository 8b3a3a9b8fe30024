#include "discovery/route_epoch.h"

namespace roomcast {

bool RouteEpochWatch::complete(const std::string& epoch, Clock::time_point now) {
  lost_ = false;
  if (!seen_ || epoch != epoch_) {
    lost_ = seen_;
    seen_ = true;
    epoch_ = epoch;
    suspect_until_ = now + rebuild_time_;
  }
  return now >= suspect_until_;
}

}  // namespace roomcast
