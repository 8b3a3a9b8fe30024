#include "standalone.h"

#include <fmt/ostream.h>
#include <spdlog/spdlog.h>
#include <boost/asio/signal_set.hpp>

#include <filesystem>
#include <future>

#include "comet/comet.h"
#include "job/job.h"
#include "job/read_on_post.h"
#include "logic/logic.h"
#include "logic/presence_rest.h"
#include "logic/presence_service.h"
#include "logic/rest_api.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "ops/node_ops.h"
#include "queue/local_queue.h"
#include "store/sqlite_presence_store.h"
#include "store/sqlite_store.h"
#include "web_root.h"

namespace roomcast {

int run_standalone(const Config& config) {
  std::filesystem::create_directories(config.data_dir);
  auto db_path = (std::filesystem::path(config.data_dir) / "roomcast.db").string();
  SqliteStore store(db_path);
  SqlitePresenceStore presence_store(store);
  LocalQueue::Bounds bounds;
  bounds.max_records = static_cast<std::size_t>(std::max(1, config.queue_max_records));
  LocalQueue queue(config.queue_partitions, config.job_batch_window_ms, config.job_batch_max,
                   bounds);
  IoPool loops(config.io_threads);
  asio::thread_pool blocking(static_cast<std::size_t>(std::max(1, config.blocking_threads)));

  Logic logic(config, store, store, queue);
  logic.init_default_rooms();
  Comet comet(loops, blocking, logic, config);
  PresenceService presence(config, store, presence_store);
  comet.set_presence_api(&presence);
  ReadOnPostGateway job_gateway(comet, presence);
  Job job(store, job_gateway);
  queue.start([&job](std::span<const QueueRecord> batch) { job.handle_batch(batch); });
  RestApi rest(logic, config);
  auto& tracker = comet.presence_tracker();
  PresenceRestApi presence_rest(
      config, {[&tracker](int64_t id) {
                 auto s = tracker.user_state(id);
                 return UserPresence{id, s.online, s.connections};
               },
               [&tracker](const std::string& room) { return tracker.room_online(room); }});
  HttpServer http(
      loops, blocking, comet,
      [&rest, &presence_rest](const HttpRequest& r) {
        return PresenceRestApi::handles(r.path) ? presence_rest.handle(r) : rest.handle(r);
      },
      find_web_root(config.web_root), config);
  http.finish_hashes_on(rest.password_pool());

  // Pushes only append to the in-process queue and presence is in memory: no reason to leave
  // the I/O loop for them.
  http.run_inline([](std::string_view path) {
    return path.starts_with("/api/push/") || PresenceRestApi::handles(path);
  });
  // Everything is in this process: ready once serving, until shutting down.
  NodeOps ops(config, "standalone", {});
  ops.collect_connections(comet);
  ops.collect_queue_lag([&queue] { return queue.backlog(); });
  ops.attach(http);
  ops.start();
  auto endpoint = http.listen(config.listen);
  loops.start();
  // A log line (not plain stdout), so a JSON log stays one object per line.
  spdlog::info("roomcast standalone listening on http://{} (data in {})", fmt::streamed(endpoint),
               config.data_dir);
  spdlog::info("standalone: {} I/O loops, {} queue partitions, database {}", loops.size(),
               config.queue_partitions, db_path);

  // Wait for Ctrl-C / SIGTERM, then stop in dependency order: no new connections, close the
  // open ones (1001), let the queue drain into the store, stop the loops.
  std::promise<int> stop_signal;
  asio::signal_set signals(loops.at(0), SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (!ec) stop_signal.set_value(sig);
  });
  int sig = stop_signal.get_future().get();
  spdlog::info("standalone: signal {}, shutting down", sig);
  ops.set_draining();
  http.stop_accepting();
  comet.shutdown();
  queue.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let close frames go out
  loops.stop();
  loops.join();
  blocking.join();
  spdlog::info("standalone: stopped");
  return 0;
}

}  // namespace roomcast
