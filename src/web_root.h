// Finds the static web client: the configured directory, else ./web, else web/ beside the
// binary's source tree (build/roomcast → ../web).
#pragma once

#include <unistd.h>
#include <filesystem>
#include <string>

namespace roomcast {

inline std::string find_web_root(const std::string& configured) {
  namespace fs = std::filesystem;
  if (!configured.empty()) return configured;
  std::error_code ec;
  if (fs::is_regular_file("web/index.html", ec)) return fs::absolute("web").string();
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (auto dir = exe.parent_path(); dir.has_relative_path(); dir = dir.parent_path())
      if (fs::is_regular_file(dir / "web" / "index.html", ec)) return (dir / "web").string();
  }
  return "web";
}

}  // namespace roomcast
