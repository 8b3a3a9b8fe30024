// roomcast <command>: one binary for every role.
#include <spdlog/spdlog.h>

#include <iostream>

#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"
#include "services.h"
#include "standalone.h"

int main(int argc, char** argv) {
  roomcast::Config config;
  std::string command = roomcast::parse_command_line(argc, argv, config);
  // The node id is fixed here so that logs and metrics name the node from the first line.
  if (config.node_id.empty())
    config.node_id = command == "standalone" ? command : command + "-" + roomcast::random_hex(4);
  roomcast::init_logging(config.log_level, config.log_format, command, config.node_id);
  try {
    if (command == "standalone") return roomcast::run_standalone(config);
#ifdef ROOMCAST_HAVE_SERVICES
    if (command == "comet") return roomcast::run_comet(config);
    if (command == "logic") return roomcast::run_logic(config);
    if (command == "job") return roomcast::run_job(config);
#endif
  } catch (const std::exception& e) {
    spdlog::critical("{} failed: {}", command, e.what());
    return 1;
  }
  std::cerr << "unknown command " << command << "\n";
  return 2;
}
